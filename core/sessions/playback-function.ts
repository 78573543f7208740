/**
 * Playback protection at the CDN: the source of a CloudFront Function (runtime cloudfront-js-2.0) for the
 * viewer-request event of the media behaviours (`*.m3u8`, `*.m4s`, `*.mp4`). It checks the playback token
 * the session function issues (core/sessions/token.ts) from the `mirror_playback` cookie or a `token` query
 * parameter, and answers 403 without one. The token is checked before the cache and is not part of the
 * cache key (the cache policy keeps only `_HLS_msn`, `_HLS_part`, `_HLS_skip`), so every viewer shares one
 * cached copy of each playlist and part. The signing secret comes from a CloudFront KeyValueStore.
 *
 * Kept as plain JavaScript text because CloudFront Functions run their own engine, not Node.
 */
export const PLAYBACK_SECRET_KVS_KEY = 'playback-secret';

export function playbackFunctionCode(keyValueStoreId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(keyValueStoreId)) throw new Error('keyValueStoreId: not a KeyValueStore id');
  return `import crypto from 'crypto';
import cf from 'cloudfront';

const kvs = cf.kvs('${keyValueStoreId}');
const MEDIA = /\\.(m3u8|m4s|mp4)$/;

function deny() {
  return { statusCode: 403, statusDescription: 'Forbidden', headers: { 'cache-control': { value: 'no-store' } } };
}

async function handler(event) {
  const request = event.request;
  if (!MEDIA.test(request.uri)) return request;
  const cookie = request.cookies && request.cookies.mirror_playback;
  const query = request.querystring && request.querystring.token;
  const token = (cookie && cookie.value) || (query && query.value);
  if (!token) return deny();
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'p1') return deny();
  const exp = Number(parts[1]);
  if (!(exp >= Math.floor(Date.now() / 1000))) return deny();
  const streamId = request.uri.split('/')[1];
  if (parts[2].split('~').indexOf(streamId) < 0) return deny();
  let secret;
  try {
    secret = await kvs.get('${PLAYBACK_SECRET_KVS_KEY}');
  } catch (e) {
    return deny();
  }
  const sig = crypto.createHmac('sha256', secret).update(parts[0] + '.' + parts[1] + '.' + parts[2]).digest('base64url');
  if (sig !== parts[3]) return deny();
  // The token never reaches the origin or the cache key.
  if (request.querystring) delete request.querystring.token;
  return request;
}
`;
}
