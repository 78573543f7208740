/**
 * Fresh first playlists through a shared cache (issue 13, decision D31).
 *
 * A player starting a live stream reads one media playlist without delivery directives and places itself from it:
 * hls.js takes the playlist's end plus the time since *it* loaded the playlist, minus PART-HOLD-BACK, and never
 * catches up afterwards (its rate control needs a second of buffer). The `Age` a cache sends is whole seconds, so a
 * copy kept up to the 1 s a CDN may keep it reads `Age: 0`, and the player starts, and stays, up to a second further
 * behind than it aims (measured: bench/latency.ts, docs/player.md). Blocking requests (`_HLS_msn`) are not affected:
 * their answer is what the playlist was when the awaited part appeared, whenever it is read.
 *
 * CloudFront TTLs are whole seconds too, and a TTL of 0 turns every such request into an origin request (CloudFront
 * does not collapse requests for objects it may not cache), which would make the origin's load grow with viewers.
 * So the edge keys plain media-playlist requests by a short time bucket instead: a viewer-request function sets
 * FRESHNESS_QUERY to the current bucket, which is in the playlist cache key, so a copy is only ever served within
 * the bucket it was fetched in (at most FRESHNESS_BUCKET_MS plus the origin's answer time old), and the origin sees
 * at most one plain request per playlist per bucket per edge cache, however many viewers arrive.
 *
 * Kept as CloudFront Functions source text (runtime cloudfront-js-2.0) so the local edge runs the very text
 * CloudFront runs (local/edge/viewer-request.ts), as for the playback check (core/sessions/playback-function.ts).
 */

/** The query parameter carrying the bucket: in the playlist cache key; the manifest function ignores it. */
export const FRESHNESS_QUERY = 'mirror_fresh';

/**
 * One bucket, ms: at most one part of the `low` profile (133 ms, core/latency-profiles.ts), so the first playlist a
 * player gets is at most one part old; the origin sees at most 10 plain requests a second per playlist per edge cache
 * (blocking requests are one per part, 7.5 a second, already).
 */
export const FRESHNESS_BUCKET_MS = 100;

/** The bucket a viewer request at `nowMs` falls in. */
export function freshnessBucket(nowMs: number): string {
  return String(Math.floor(nowMs / FRESHNESS_BUCKET_MS));
}

/**
 * `fresh(request)`: media playlists (`.../playlist.m3u8`; the multivariant playlist changes only when renditions
 * come or go) without `_HLS_msn` get the bucket; every other request loses any FRESHNESS_QUERY a client sent, so
 * nobody can split the cache of blocking answers, or mint keys of their own, with it.
 */
const FRESH_SOURCE = `var FRESHNESS_QUERY = '${FRESHNESS_QUERY}';
var FRESHNESS_BUCKET_MS = ${FRESHNESS_BUCKET_MS};
var MEDIA_PLAYLIST = /[/]playlist[.]m3u8$/;

function fresh(request) {
  var query = request.querystring || {};
  request.querystring = query;
  delete query[FRESHNESS_QUERY];
  if (MEDIA_PLAYLIST.test(request.uri) && !query._HLS_msn) {
    query[FRESHNESS_QUERY] = { value: String(Math.floor(Date.now() / FRESHNESS_BUCKET_MS)) };
  }
  return request;
}
`;

const PLAYBACK_HANDLER = 'async function handler(event) {';

/**
 * The playlist behaviour's viewer-request function. CloudFront runs one function per event and behaviour, so with
 * playback protection on, the playback check's source (`playbackSource`) runs first inside it: its answer (a 403)
 * goes back as it is, a request it passes on gets the bucket.
 */
export function playlistFunctionCode(playbackSource?: string): string {
  if (playbackSource === undefined) {
    return `${FRESH_SOURCE}
async function handler(event) {
  return fresh(event.request);
}
`;
  }
  if (playbackSource.split(PLAYBACK_HANDLER).length !== 2) {
    throw new Error(`playbackSource: expected exactly one "${PLAYBACK_HANDLER}"`);
  }
  return `${playbackSource.replace(PLAYBACK_HANDLER, 'async function playbackCheck(event) {')}
${FRESH_SOURCE}
async function handler(event) {
  var checked = await playbackCheck(event);
  return checked.statusCode ? checked : fresh(checked);
}
`;
}

/** The request shape `fresh` works on (CloudFront Functions' event.request, the fields it reads). */
export interface FreshnessRequest {
  uri: string;
  querystring?: Record<string, { value: string }>;
}

/**
 * `fresh` as a function, evaluated from the same source text with `Date.now` replaced by `now` (the local edge's
 * clock, so tests can move it).
 */
export function loadFreshness(now: () => number = Date.now): (request: FreshnessRequest) => FreshnessRequest {
  const clock = { now };
  const fresh: unknown = new Function('Date', `'use strict';\n${FRESH_SOURCE}\nreturn fresh;`)(clock);
  if (typeof fresh !== 'function') throw new Error('the freshness source defines no fresh()');
  return fresh as (request: FreshnessRequest) => FreshnessRequest;
}
