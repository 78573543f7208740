import { h } from '../dom.js';
import type { Credentials } from './model.js';

/** A part this call did not issue: the stored one is kept, and cannot be read back (D38). */
const UNCHANGED = '(unchanged: not shown again)';
/** The URLs carry every part, so a rotation of one part of an encrypted stream cannot show them. */
const NO_URL = '(unchanged parts are not shown again: rotate both to get a URL)';

export function passphraseText(passphrase: string | null | undefined): string {
  if (passphrase === null) return '(none: unencrypted)';
  return passphrase ?? UNCHANGED;
}

/** An RTP stream's credentials (decision D46): where to send, the SRTP key, the SDP and a ready command. */
function rtpParts(c: Credentials): HTMLElement[] {
  return [
    h('p', { className: 'muted' }, 'Shown once. Copy them into the encoder now.'),
    h('div', {}, 'RTP destination', h('code', { className: 'rtp-url' }, c.rtpUrl ?? '')),
    h('div', {}, 'SRTP key (AES_CM_128_HMAC_SHA1_80)', h('code', {}, c.srtpKey ?? '(none: plain RTP)')),
    ...(c.sdp === undefined ? [] : [h('div', {}, 'SDP', h('pre', {}, h('code', {}, c.sdp)))]),
    h('div', {}, 'ffmpeg', h('code', {}, c.ffmpeg ?? '')),
    h('form', { method: 'dialog' }, h('button', { className: 'primary' }, 'Done')),
  ];
}

/** The dialog that shows a stream's publish credentials, once, after create or rotate. */
export function credentialsDialog(): {
  readonly dialog: HTMLDialogElement;
  show(title: string, credentials: Credentials): void;
} {
  const dialog = h('dialog', { id: 'credentials' });
  const show = (title: string, c: Credentials) => {
    if (c.rtpUrl !== undefined) {
      dialog.replaceChildren(h('h2', {}, `Credentials for ${title}`), ...rtpParts(c));
      dialog.showModal();
      return;
    }
    dialog.replaceChildren(
      h('h2', {}, `Credentials for ${title}`),
      h('p', { className: 'muted' }, 'Shown once. Copy them into the encoder now.'),
      h('div', {}, 'SRT URL', h('code', { className: 'srt-url' }, c.srtUrl ?? NO_URL)),
      h('div', {}, 'SRT URL (plain key as streamid)', h('code', {}, c.srtPlainKeyUrl ?? NO_URL)),
      h('div', {}, 'Publish key', h('code', {}, c.publishKey ?? UNCHANGED)),
      h('div', {}, 'Passphrase', h('code', {}, passphraseText(c.passphrase))),
      h('form', { method: 'dialog' }, h('button', { className: 'primary' }, 'Done')),
    );
    dialog.showModal();
  };
  return { dialog, show };
}
