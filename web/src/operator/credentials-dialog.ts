import { h } from '../dom.js';
import type { Credentials } from './model.js';

/** The dialog that shows a stream's publish credentials, once, after create or rotate. */
export function credentialsDialog(): {
  readonly dialog: HTMLDialogElement;
  show(title: string, credentials: Credentials): void;
} {
  const dialog = h('dialog', { id: 'credentials' });
  const show = (title: string, c: Credentials) => {
    dialog.replaceChildren(
      h('h2', {}, `Credentials for ${title}`),
      h('p', { className: 'muted' }, 'Shown once. Copy them into the encoder now.'),
      h('div', {}, 'SRT URL', h('code', { className: 'srt-url' }, c.srtUrl)),
      h('div', {}, 'SRT URL (plain key as streamid)', h('code', {}, c.srtPlainKeyUrl)),
      h('div', {}, 'Passphrase', h('code', {}, c.passphrase ?? '(none: unencrypted)')),
      h('form', { method: 'dialog' }, h('button', { className: 'primary' }, 'Done')),
    );
    dialog.showModal();
  };
  return { dialog, show };
}
