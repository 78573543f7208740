import { h } from '../dom.js';
import type { Act, Api } from './api.js';
import type { Credentials, Stream } from './model.js';

/**
 * The new-stream form: name, ladder, latency mode, encryption, visibility (the stage's default unless chosen,
 * D36); the credentials are shown on success.
 */
export function createStreamForm(
  api: Api,
  act: Act,
  showCredentials: (title: string, credentials: Credentials) => void,
): HTMLFormElement {
  const name = h('input', { placeholder: 'Stream name', required: true, name: 'name' });
  const ladder = h(
    'select',
    { name: 'ladder' },
    ...['tile', 'full', 'passthrough'].map((l) => h('option', { value: l }, l)),
  );
  const latency = h(
    'select',
    { name: 'latency' },
    h('option', { value: 'low' }, 'low latency'),
    h('option', { value: 'standard' }, 'standard'),
  );
  const encrypted = h('input', { type: 'checkbox', checked: true, name: 'encrypted' });
  // SRT, or RTP with SRTP by payload (decision D46); plain RTP needs a source list: the API only.
  const protocol = h(
    'select',
    { name: 'protocol' },
    h('option', { value: 'srt' }, 'SRT'),
    ...['mp2t', 'h264', 'hevc'].map((p) => h('option', { value: p }, `RTP ${p === 'mp2t' ? 'MPEG-TS' : p}`)),
  );
  const visibility = h(
    'select',
    { name: 'visibility' },
    h('option', { value: '' }, 'stage default access'),
    h('option', { value: 'public' }, 'public'),
    h('option', { value: 'private' }, 'private (entitled viewers)'),
  );
  const form = h(
    'form',
    { className: 'inline', id: 'create' },
    name,
    ladder,
    latency,
    protocol,
    visibility,
    h('label', { className: 'muted' }, encrypted, ' encrypted'),
    h('button', { className: 'primary', type: 'submit' }, 'Create stream'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(async () => {
      const result = await api<{ stream: Stream; credentials: Credentials }>('POST', '/streams', {
        name: name.value,
        ladder: ladder.value,
        latency: latency.value,
        encrypted: encrypted.checked,
        ...(visibility.value ? { visibility: visibility.value } : {}),
        ...(protocol.value === 'srt' ? {} : { protocol: 'rtp', rtp: { payload: protocol.value } }),
        clientToken: crypto.randomUUID(),
      });
      name.value = '';
      showCredentials(result.stream.name, result.credentials);
    });
  });
  return form;
}
