import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signed tokens, stateless so both the session function and a CloudFront Function can check them with
 * only a key.
 *
 * - Session token `s1.<sessionId>.<expiresAtSec>.<sig>`: authorizes calls on one session (session-signing secret).
 * - Playback token `p2.<kid>.<sessionId>.<expiresAtSec>.<streamId>.<sig>`: lets the bearer fetch one stream's
 *   playlists and media until it expires (a playback key, by kid). Ids and kids never contain '.'.
 * The signature covers everything before it; `sig` is base64url without padding.
 */

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

function verifySignature(secret: string, payload: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function signSessionToken(secret: string, sessionId: string, expiresAtSec: number): string {
  const payload = `s1.${sessionId}.${expiresAtSec}`;
  return `${payload}.${sign(secret, payload)}`;
}

/** The session id the token is for, or undefined if forged, malformed or expired. */
export function verifySessionToken(secret: string, token: string, nowSec: number): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 's1') return undefined;
  const [, sessionId, exp, sig] = parts as [string, string, string, string];
  if (!/^\d{1,12}$/.test(exp) || Number(exp) < nowSec) return undefined;
  return verifySignature(secret, `s1.${sessionId}.${exp}`, sig) ? sessionId : undefined;
}

/** A key of the playback key ring (playback-keys.ts): what signs a token, named by its kid. */
export interface PlaybackSigningKey {
  readonly kid: string;
  readonly secret: string;
}

/**
 * Playback token `p2.<kid>.<sessionId>.<expiresAtSec>.<streamId>.<sig>` (decision D37): one session, one stream,
 * signed with a playback key (never the session-signing secret) that the edge finds by kid in its KeyValueStore.
 * The edge function (playback-function.ts) is the only verifier: it runs locally too (playback-runner.ts).
 */
export function signPlaybackToken(
  key: PlaybackSigningKey,
  sessionId: string,
  streamId: string,
  expiresAtSec: number,
): string {
  const payload = `p2.${key.kid}.${sessionId}.${expiresAtSec}.${streamId}`;
  return `${payload}.${sign(key.secret, payload)}`;
}

/**
 * Name of the playback cookies the session function sets, one per stream with `Path=/<streamId>/`: a browser sends
 * each stream's media only its own, so tabs watching different streams never overwrite each other's. Not the
 * `mirror_playback` of the first protection (one cookie on `/`): a browser still holding one would send both under
 * one name.
 */
export const PLAYBACK_COOKIE = 'mirror_play';

/** The query parameter players that cannot send cookies put the token in (never part of a cache key). */
export const PLAYBACK_QUERY = 'token';
