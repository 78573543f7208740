import { BLOCKING_PLAYLIST_MAX_AGE_S, corsHeaders } from '../../core/contracts/delivery.js';
import type { MediaPath } from '../../core/contracts/names.js';
import { buildMediaPlaylist, renderMediaPlaylist } from '../../core/hls/index.js';
import { errorResponse, type HttpResponse } from '../../core/http.js';
import type { StreamSnapshot } from '../../core/live/index.js';
import { contentTypeOf, IMMUTABLE_CACHE_CONTROL } from '../../core/storage/index.js';

/** The manifest function's responses: cache policies, CORS, errors, and the rendered media playlist. */

/** Live playlists change every part: CDNs may keep one for a second, never longer (and never `no-cache`). */
export const LIVE_PLAYLIST_CACHE_CONTROL = 'public, max-age=1';
/**
 * A blocking response is what the playlist was when (msn, part) appeared: cacheable per query for a minute (the part
 * store keeps the parts it lists at least that long, D33).
 */
export const BLOCKING_PLAYLIST_CACHE_CONTROL = `public, max-age=${BLOCKING_PLAYLIST_MAX_AGE_S}`;
/** The multivariant playlist changes only when renditions come or go. */
export const MULTIVARIANT_CACHE_CONTROL = 'public, max-age=2';
/** Errors: cached briefly so a CDN does not hammer us, never long enough to strand a player. */
export const ERROR_CACHE_CONTROL = 'public, max-age=1';
export const RETRY_AFTER_S = 1;

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
/** CloudFront's CORS set (its response headers policy overrides this one behind the distribution anyway). */
const CORS_HEADERS = corsHeaders();

/**
 * Flights woken by one publish share one snapshot object (LiveWaiters reads once per wake-up): render each (rendition,
 * skip, cache policy) of it once for all of them, response object included (it is never mutated). Keyed weakly by
 * the snapshot, so entries go when the snapshot does; a snapshot holds at most 2 x 2 x renditions entries.
 */
const rendered = new WeakMap<StreamSnapshot, Map<string, HttpResponse>>();
export function playlistResponse(
  snapshot: StreamSnapshot,
  rendition: string,
  skip: boolean,
  cacheControl: string,
): HttpResponse {
  let bySnapshot = rendered.get(snapshot);
  if (bySnapshot === undefined) {
    bySnapshot = new Map();
    rendered.set(snapshot, bySnapshot);
  }
  const key = `${rendition}\n${skip}\n${cacheControl}`;
  let response = bySnapshot.get(key);
  if (response === undefined) {
    const state = snapshot.renditions.get(rendition);
    if (state === undefined) return notFound(`stream ${snapshot.streamId} has no rendition ${rendition}`);
    const siblings = [...snapshot.renditions]
      .filter(([name]) => name !== rendition)
      .map(([name, s]) => ({ name, timeline: s.timeline }));
    response = text(
      renderMediaPlaylist(buildMediaPlaylist(state.timeline, { skip, siblings })),
      cacheControl,
    );
    bySnapshot.set(key, response);
  }
  return response;
}

/** 503 with Retry-After, never cached: the client (or CloudFront's 1 s error caching) tries again shortly. */
export function retryLater(error: string, message: string): HttpResponse {
  return withCors({
    status: 503,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'retry-after': String(RETRY_AFTER_S),
    },
    body: JSON.stringify({ error, message }),
  });
}

export function withCors(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...CORS_HEADERS, ...response.headers } };
}

export function text(body: string, cacheControl: string): HttpResponse {
  return withCors({
    status: 200,
    headers: { 'content-type': PLAYLIST_TYPE, 'cache-control': cacheControl },
    body,
  });
}

export function mediaResponse(path: MediaPath, bytes: Uint8Array): HttpResponse {
  return withCors({
    status: 200,
    headers: {
      'content-type': contentTypeOf(path.kind),
      'cache-control': IMMUTABLE_CACHE_CONTROL,
      'content-length': String(bytes.byteLength),
    },
    body: bytes,
  });
}

export function notFound(message: string): HttpResponse {
  return withCors({
    ...errorResponse(404, 'not_found', message),
    headers: { 'cache-control': ERROR_CACHE_CONTROL },
  });
}

export function badRequest(field: string, message: string): HttpResponse {
  return withCors({
    ...errorResponse(400, 'invalid_request', message, field),
    headers: { 'cache-control': ERROR_CACHE_CONTROL },
  });
}
