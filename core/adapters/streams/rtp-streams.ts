import { DomainError } from '../../api/errors.js';
import type { RtpSettings, StreamCredentials, StreamRecord } from '../../streams/schema.js';
import { newSrtpKey } from '../../streams/secrets.js';
import type { CreateStreamInput, RotateInput } from './registry.js';
import { newPassphrase, newPublishKey, type StoredSecret } from './secret-store.js';

/** The registry's rules for RTP streams (decision D46), apart so that registry.ts stays one concern's size. */

/** The RTP settings a create asks for (defaulted), undefined for SRT; 400 naming `rtp` when they contradict. */
export function rtpSettings(input: CreateStreamInput): RtpSettings | undefined {
  if (input.protocol !== 'rtp') {
    if (input.rtp !== undefined) throw new DomainError('invalid', 'rtp: only for protocol "rtp"', 'rtp');
    return undefined;
  }
  return input.rtp ?? { payload: 'mp2t' };
}

/** What a rotation renews: an RTP stream's SRTP key only, an SRT stream's parts as asked. */
export function rotateParts(id: string, rtp: boolean, found: StoredSecret, what: RotateInput) {
  if (!rtp) {
    if (!what.publishKey && !what.passphrase) {
      throw new DomainError(
        'invalid',
        'publishKey: rotate at least one of publishKey, passphrase',
        'publishKey',
      );
    }
    return { publishKey: what.publishKey, passphrase: what.passphrase, srtpKey: false };
  }
  if (what.srtpKey === false) {
    throw new DomainError('invalid', "srtpKey: an RTP stream's only credential is its SRTP key", 'srtpKey');
  }
  if ((found.secret?.srtp ?? null) === null) {
    throw new DomainError(
      'conflict',
      `srtpKey: stream ${id} sends plain RTP (plainSources): no key`,
      'srtpKey',
    );
  }
  return { publishKey: false, passphrase: false, srtpKey: true };
}

/** The credentials an answer may show: an RTP stream's publish key is never shown (no one is to use it). */
export function shown(
  record: StreamRecord,
  credentials: Partial<StreamCredentials>,
): Partial<StreamCredentials> {
  if (record.protocol !== 'rtp') return credentials;
  const { publishKey: _hidden, ...rest } = credentials;
  return rest;
}

/**
 * A new stream's credentials. An RTP stream gets no passphrase, and a publish key that is hashed and never shown (the
 * secret's schema wants one; no one holds it, so the SRT listener admits no one for the stream); it sends SRTP
 * unless the operator listed the sources allowed to send plain RTP (decision D46).
 */
export function newCredentials(encrypted: boolean, rtp: RtpSettings | undefined): StreamCredentials {
  return {
    publishKey: newPublishKey(),
    passphrase: encrypted && !rtp ? newPassphrase() : null,
    ...(rtp ? { srtpKey: rtp.plainSources === undefined ? newSrtpKey() : null } : {}),
  };
}
