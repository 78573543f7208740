import { STREAM_ID_PATTERN } from '../contracts/names.js';
import { KID_PATTERN, KVS_KEY_PREFIX } from './playback-keys.js';
import { PLAYBACK_COOKIE, PLAYBACK_QUERY } from './token.js';

/**
 * Playback protection at the CDN (decision D37): the source of a CloudFront Function (runtime cloudfront-js-2.0) for
 * the viewer-request event of the media behaviours (`*.m3u8`, `*.m4s`, `*.mp4`). It checks the playback token the
 * session function issues (core/sessions/token.ts) from the stream's `mirror_play` cookie or a `token` query
 * parameter, and answers 403 without a valid one. The token is checked before the cache and is never part of a cache
 * key (the cache policies keep only `_HLS_msn`, `_HLS_part`, `_HLS_skip` and the freshness bucket; the function
 * deletes `token` from the query), so every viewer shares one cached copy of each playlist and part.
 *
 * - The path must be canonical before its stream is read: segments of `[A-Za-z0-9_-][A-Za-z0-9._-]*` only, so
 *   `//`, `.`, `..`, any percent-encoding (`%2f`, `%5c`, ...) and backslashes are refused rather than interpreted,
 *   and the first segment must match the stream-id grammar (core/contracts/names.ts).
 * - The token's kid names the key in the KeyValueStore (`playback-key-<kid>`): during a rotation two keys are there
 *   (core/sessions/playback-keys.ts); an unknown kid is refused (fail closed).
 * - The signature is compared in constant time: every character, differences OR-ed together (the runtime has no
 *   timingSafeEqual), so the time taken says nothing about how much of a forged signature was right.
 *
 * Kept as plain JavaScript text because CloudFront Functions run their own engine, not Node.
 */
export function playbackFunctionCode(keyValueStoreId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(keyValueStoreId)) throw new Error('keyValueStoreId: not a KeyValueStore id');
  return `import crypto from 'crypto';
import cf from 'cloudfront';

const kvs = cf.kvs('${keyValueStoreId}');
const MEDIA = /[.](m3u8|m4s|mp4)$/;
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const STREAM = /^${STREAM_ID_PATTERN}$/;
const TOKEN = /^p2[.](${KID_PATTERN})[.]([A-Za-z0-9_-]{1,64})[.]([0-9]{1,12})[.](${STREAM_ID_PATTERN})[.]([A-Za-z0-9_-]{43})$/;

function deny() {
  return { statusCode: 403, statusDescription: 'Forbidden', headers: { 'cache-control': { value: 'no-store' } } };
}

// The stream of a canonical media path, or null: nothing is decoded or normalised, anything unusual is refused.
function streamOf(uri) {
  const segments = uri.split('/');
  if (segments.length < 3 || segments[0] !== '') return null;
  for (let i = 1; i < segments.length; i++) {
    if (!SEGMENT.test(segments[i])) return null;
  }
  return STREAM.test(segments[1]) ? segments[1] : null;
}

// Constant time for equal lengths (a signature's length is public: always 43).
function sameText(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function valid(token, streamId) {
  const m = typeof token === 'string' ? TOKEN.exec(token) : null;
  if (!m || m[4] !== streamId) return false;
  if (!(Number(m[3]) >= Math.floor(Date.now() / 1000))) return false;
  let key;
  try {
    key = await kvs.get('${KVS_KEY_PREFIX}' + m[1]);
  } catch (e) {
    return false;
  }
  const payload = token.slice(0, token.length - 44);
  const sig = crypto.createHmac('sha256', key).update(payload).digest('base64url');
  return sameText(sig, m[5]);
}

async function handler(event) {
  const request = event.request;
  if (!MEDIA.test(request.uri)) return request;
  const streamId = streamOf(request.uri);
  if (streamId === null) return deny();
  const cookie = request.cookies && request.cookies.${PLAYBACK_COOKIE};
  const query = request.querystring && request.querystring.${PLAYBACK_QUERY};
  const ok = (cookie && (await valid(cookie.value, streamId))) || (query && (await valid(query.value, streamId)));
  if (!ok) return deny();
  // The token never reaches the origin or the cache key.
  if (request.querystring) delete request.querystring.${PLAYBACK_QUERY};
  return request;
}
`;
}
