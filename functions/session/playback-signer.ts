import {
  type PlaybackKeyRing,
  parseRing,
  SIGNER_REFRESH_MS,
  signingKey,
} from '../../core/sessions/playback-keys.js';
import type { PlaybackSigningKey } from '../../core/sessions/token.js';
import type { PlaybackSigner } from './respond.js';

/**
 * The session function's view of the playback key ring (decision D37): read at cold start, re-read every
 * SIGNER_REFRESH_MS in the background (stale-while-revalidate: a request never waits for Secrets Manager), so a key
 * the rotation added ACTIVATION_DELAY_MS ahead is known here before it signs. A failed re-read keeps the ring it has
 * (its keys stay valid at the edge for the whole overlap) and is tried again RETRY_MS later.
 */
const RETRY_MS = 30_000;

export async function ringSigner(
  read: () => Promise<string>,
  now: () => number,
  onError: (error: unknown) => void,
): Promise<PlaybackSigner> {
  let ring: PlaybackKeyRing = parseRing(await read());
  if (ring.keys.length === 0)
    throw new Error('playback key ring is empty: the deployment fills it (PlaybackKeys)');
  let readAtMs = now();
  let refreshing = false;
  const refresh = () => {
    refreshing = true;
    read()
      .then((text) => {
        const next = parseRing(text);
        if (next.keys.length > 0) ring = next;
        readAtMs = now();
      })
      .catch((error: unknown) => {
        readAtMs = now() - SIGNER_REFRESH_MS + RETRY_MS;
        onError(error);
      })
      .finally(() => {
        refreshing = false;
      });
  };
  return (): PlaybackSigningKey => {
    const nowMs = now();
    if (!refreshing && nowMs - readAtMs >= SIGNER_REFRESH_MS) refresh();
    return signingKey(ring, nowMs) as PlaybackSigningKey;
  };
}

/** A fixed ring's signer (the embedded default reads its in-memory ring through this on every call). */
export function staticSigner(ring: () => PlaybackKeyRing, now: () => number): PlaybackSigner {
  return () => {
    const key = signingKey(ring(), now());
    if (key === undefined) throw new Error('playback key ring is empty');
    return key;
  };
}
