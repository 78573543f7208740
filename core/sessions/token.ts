import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signed tokens, stateless so both the session function and a CloudFront Function can check
 * them with only the secret.
 *
 * - Session token `s1.<sessionId>.<expiresAtSec>.<sig>`: authorizes calls on one session.
 * - Playback token `p1.<expiresAtSec>.<streamIds joined by '~'>.<sig>`: lets the bearer fetch playlists and
 *   media of those streams until it expires. Stream ids are slugs, so '.' and '~' never occur in them.
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

export function signPlaybackToken(
  secret: string,
  streamIds: readonly string[],
  expiresAtSec: number,
): string {
  const payload = `p1.${expiresAtSec}.${[...new Set(streamIds)].sort().join('~')}`;
  return `${payload}.${sign(secret, payload)}`;
}

/** Whether the token allows fetching `path` (`/{streamId}/...`) at nowSec. */
export function verifyPlaybackToken(secret: string, token: string, path: string, nowSec: number): boolean {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'p1') return false;
  const [, exp, streams, sig] = parts as [string, string, string, string];
  if (!/^\d{1,12}$/.test(exp) || Number(exp) < nowSec) return false;
  const streamId = path.split('/')[1] ?? '';
  if (!streams.split('~').includes(streamId)) return false;
  return verifySignature(secret, `p1.${exp}.${streams}`, sig);
}

/** Name of the playback cookie the session function sets and the edge checks. */
export const PLAYBACK_COOKIE = 'mirror_playback';

/**
 * The edge's check for a playlist or media request when playback protection is on, in Node (the CloudFront
 * Function in playback-function.ts does the same at the edge; the local edge runs that function's own
 * source, see playback-runner.ts): the token comes from the cookie, or from a `token` query parameter for
 * players that cannot send cookies.
 */
export function playbackAllowed(
  secret: string,
  path: string,
  cookieHeader: string | undefined,
  queryToken: string | undefined,
  nowSec: number,
): boolean {
  const fromCookie = cookieHeader
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${PLAYBACK_COOKIE}=`))
    ?.slice(PLAYBACK_COOKIE.length + 1);
  const token = fromCookie ?? queryToken;
  return token !== undefined && verifyPlaybackToken(secret, token, path, nowSec);
}
