/**
 * The CloudFront behaviours as data (decision D2): infra/constructs/delivery builds the distribution from this
 * table and the local edge (local/edge) routes, caches and fails over from it, so a player that works on the
 * laptop works behind CloudFront and a drift fails test/contracts/delivery.test.ts instead of a deployment.
 */

import { API_PREFIX, OPERATOR_EVENTS_PATH, STREAM_LIST_PATH } from './api-paths.js';
import { FRESHNESS_QUERY } from './playlist-freshness.js';
import { STREAM_LIST_TTL_SECONDS } from './stream-list.js';

const DAY_S = 86_400;

export { STREAM_LIST_TTL_SECONDS };

/** The methods CloudFront can allow on a behaviour: it offers exactly these three sets. */
export const METHOD_SETS = {
  GET_HEAD: ['GET', 'HEAD'],
  GET_HEAD_OPTIONS: ['GET', 'HEAD', 'OPTIONS'],
  ALL: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
} as const;
export type MethodSet = keyof typeof METHOD_SETS;

export interface CachePolicySpec {
  /** Set for CloudFront's managed policies (referenced by id); the values below restate what AWS defines. */
  readonly managed?: 'CachingOptimized' | 'CachingDisabled';
  readonly comment?: string;
  /** CloudFront's TTL rules: no Cache-Control -> default; max-age/s-maxage clamped to [min, max]. */
  readonly minTtlSeconds: number;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  /** Query strings in the cache key, and so the only ones forwarded to the origin (in this order). */
  readonly queryStrings: readonly string[];
  readonly headers: readonly string[];
  readonly cookies: readonly string[];
  /** Accept-Encoding (gzip, brotli) in the cache key, so compressed and plain copies are kept apart. */
  readonly acceptEncoding: boolean;
}

/** The only query parameters that change a playlist (RFC 8216bis 6.2.5 delivery directives). */
export const PLAYLIST_CACHE_KEY_QUERY = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;

export const CACHE_POLICIES = {
  playlist: {
    comment:
      'LL-HLS playlists: keyed on the delivery directives and the freshness bucket; honours the origin Cache-Control',
    minTtlSeconds: 0,
    // Used when the manifest function sends no Cache-Control: the max-age=1 it sends on live playlists, so a playlist
    // is never kept longer than the origin would allow.
    defaultTtlSeconds: 1,
    maxTtlSeconds: 60,
    // The freshness bucket the playlist behaviour's viewer-request function sets on plain media-playlist requests
    // (core/contracts/playlist-freshness.ts, D31): a copy is served only within the bucket it was fetched in.
    queryStrings: [...PLAYLIST_CACHE_KEY_QUERY, FRESHNESS_QUERY],
    headers: [],
    cookies: [],
    acceptEncoding: true,
  },
  media: {
    comment: 'Immutable CMAF parts, segments and init segments: no query strings, headers or cookies',
    // Parts, segments and init segments never change once published.
    minTtlSeconds: 0,
    defaultTtlSeconds: DAY_S,
    maxTtlSeconds: 365 * DAY_S,
    queryStrings: [],
    headers: [],
    cookies: [],
    acceptEncoding: false,
  },
  streamList: {
    comment:
      'The public stream list: shared by every viewer, keyed on the page cursor only, kept two seconds',
    minTtlSeconds: 0,
    defaultTtlSeconds: STREAM_LIST_TTL_SECONDS,
    maxTtlSeconds: STREAM_LIST_TTL_SECONDS,
    // No headers or cookies: the list is the same for everyone, and nothing a viewer sends can split or poison it.
    queryStrings: ['cursor'],
    headers: [],
    cookies: [],
    acceptEncoding: true,
  },
  webApp: {
    managed: 'CachingOptimized',
    minTtlSeconds: 1,
    defaultTtlSeconds: DAY_S,
    maxTtlSeconds: 365 * DAY_S,
    queryStrings: [],
    headers: [],
    cookies: [],
    acceptEncoding: true,
  },
  uncached: {
    managed: 'CachingDisabled',
    minTtlSeconds: 0,
    defaultTtlSeconds: 0,
    maxTtlSeconds: 0,
    queryStrings: [],
    headers: [],
    cookies: [],
    acceptEncoding: false,
  },
} as const satisfies Record<string, CachePolicySpec>;
export type CachePolicyName = keyof typeof CACHE_POLICIES;

/**
 * Where a behaviour's requests go. Parts live in the live state's Redis, not in media storage (decision D33), so
 * the part behaviour's origin is the manifest function: it answers a stored part from Redis (or from storage, where
 * parts go while Redis is unreachable) and holds a preload-hinted part until it is published (D7). `media` is media
 * storage alone: segments and init segments are stored before any playlist names them, so a miss on one is final and
 * must not cost a Lambda invocation.
 */
export type OriginName = 'manifest' | 'media' | 'api' | 'webApp' | 'events';

/** What the local edge calls a behaviour's traffic (its stats and routes use these names). */
export type BehaviourName = 'playlist' | 'media' | 'streamList' | 'events' | 'api' | 'web';

export interface Behaviour {
  readonly name: BehaviourName;
  /** CloudFront path pattern (`*` any characters, `?` one); DEFAULT_PATH_PATTERN for the default behaviour. */
  readonly pathPattern: string;
  readonly origin: OriginName;
  readonly cachePolicy: CachePolicyName;
  /**
   * What reaches the origin besides the cache key: nothing more; the viewer's address (VIEWER_ADDRESS_HEADER,
   * core/contracts/viewer-address.ts) and nothing else; or every viewer header but Host, with the query and
   * CloudFront's own headers, the viewer address among them (the managed AllViewerExceptHostHeader policy).
   */
  readonly originRequest: 'cacheKeyOnly' | 'viewerAddress' | 'allViewerExceptHost';
  readonly allowedMethods: MethodSet;
  readonly cachedMethods: 'GET_HEAD' | 'GET_HEAD_OPTIONS';
  /**
   * Viewer-request function: the playback token check (only when playback protection is on, docs/sessions.md);
   * on playlists the freshness bucket (always, D31), after the playback check when that is on; or
   * `/dir/` -> `/dir/index.html` for the web app.
   */
  readonly viewerRequest?: 'playbackCheck' | 'playlistFreshness' | 'directoryIndex';
  /** CloudFront compresses text answers (playlists, JSON, scripts) for viewers that accept gzip or brotli. */
  readonly compress: boolean;
}

export const DEFAULT_PATH_PATTERN = '*';

/**
 * How long CloudFront keeps a blocking playlist response per query (the manifest function's Cache-Control on it):
 * what the response listed is still being handed out that long, so the part store keeps parts past it (D33).
 */
export const BLOCKING_PLAYLIST_MAX_AGE_S = 60;

/**
 * Parts, and so the names a preload hint can point at (`part-{msn}-{part}.m4s`, core/contracts/names.ts), whatever
 * folders lead to them (the pattern looks at the file name only, so it holds for any key layout). CloudFront's `*`
 * also crosses slashes, so a segment under a folder starting with `part-` (a stream named `part-1`) matches too: the
 * manifest function answers any non-part name from media storage at once, without a Redis call.
 */
export const PART_PATH_PATTERN = '*/part-*.m4s';

/** A recording's rendition playlist (`.../{broadcast}/recording.m3u8`) and multivariant (`{stream}/recording-{b}.m3u8`). */
export const RECORDING_PLAYLIST_PATTERNS = ['*/recording.m3u8', '*/recording-*.m3u8'] as const;

/**
 * The DVR playlists (D43): `{stream}/dvr.m3u8` and `{stream}/{rendition}/dvr.m3u8`, written by the ingest into
 * media storage. `*` crosses slashes; no live name ends in `/dvr.m3u8`.
 */
export const DVR_PLAYLIST_PATTERN = '*/dvr.m3u8';

const MEDIA = {
  name: 'media',
  cachePolicy: 'media',
  originRequest: 'cacheKeyOnly',
  allowedMethods: 'GET_HEAD_OPTIONS',
  cachedMethods: 'GET_HEAD_OPTIONS',
  viewerRequest: 'playbackCheck',
  compress: true,
} as const;

/**
 * The behaviours in CloudFront's order: the first pattern that matches a path wins, the default (last) catches
 * the rest. One response headers policy (CORS and SECURITY_HEADERS) applies to every behaviour.
 */
export const BEHAVIOURS: readonly Behaviour[] = [
  // Recordings' playlists (D40) before the live ones: VOD playlists written once when the broadcast ends, so
  // storage alone serves them, immutable like the chunks (`rec-*.m4s`, `rec-init-*.mp4`) the media behaviours below
  // already route there. `*` crosses slashes: stream ids starting with `recording-` are refused (StreamId), so no
  // live playlist falls in here.
  ...RECORDING_PLAYLIST_PATTERNS.map((pathPattern) => ({ ...MEDIA, pathPattern, origin: 'media' as const })),
  // DVR playlists (D43) before the live ones: storage alone, like the DVR segments they list, with the playback check
  // of every other media path. Rewritten in place at each DVR segment and stored with a 2 s max-age, which the
  // playlist policy honours (min TTL 0); that policy, not the media one, for its Accept-Encoding key: CloudFront
  // compresses only where the cache key has it, and a 4 h DVR playlist is 98 KB of text, 4-9 KB compressed. Named
  // `playlist`: the local edge takes a route's cache policy from the first behaviour of that name.
  {
    ...MEDIA,
    name: 'playlist',
    pathPattern: DVR_PLAYLIST_PATTERN,
    origin: 'media',
    cachePolicy: 'playlist',
  },
  {
    name: 'playlist',
    pathPattern: '*.m3u8',
    origin: 'manifest',
    cachePolicy: 'playlist',
    originRequest: 'cacheKeyOnly',
    allowedMethods: 'GET_HEAD_OPTIONS',
    cachedMethods: 'GET_HEAD_OPTIONS',
    viewerRequest: 'playlistFreshness',
    compress: true,
  },
  // Parts first (the first matching pattern wins): the manifest function serves them from the part store (D33).
  { ...MEDIA, pathPattern: PART_PATH_PATTERN, origin: 'manifest' },
  // Segments and init segments: storage alone; a missing one is a plain error answer cached for 1 s.
  { ...MEDIA, pathPattern: '*.m4s', origin: 'media' },
  { ...MEDIA, pathPattern: '*.mp4', origin: 'media' },
  // Thumbnails (D41): rewritten in place every second, stored with a 1 s max-age that this policy honours (its
  // minimum TTL is 0); no playback check, as the public stream list names them for the stream picker.
  {
    name: 'media',
    pathPattern: '*.jpg',
    origin: 'media',
    cachePolicy: 'media',
    originRequest: 'cacheKeyOnly',
    allowedMethods: 'GET_HEAD_OPTIONS',
    cachedMethods: 'GET_HEAD_OPTIONS',
    compress: false,
  },
  // Before `/api/*`: the one API answer that is the same for every viewer, cached; the rate limit still sees the
  // address of the viewer whose miss reaches the API.
  {
    name: 'streamList',
    pathPattern: STREAM_LIST_PATH,
    origin: 'api',
    cachePolicy: 'streamList',
    originRequest: 'viewerAddress',
    allowedMethods: 'GET_HEAD',
    cachedMethods: 'GET_HEAD',
    compress: true,
  },
  // Before `/api/*`: the operator events (D44) stream from a function URL in response-streaming mode; API Gateway
  // would buffer the whole response. Uncached; every viewer header reaches it (the credential header, Last-Event-ID);
  // not compressed, as compression would hold events back.
  {
    name: 'events',
    pathPattern: OPERATOR_EVENTS_PATH,
    origin: 'events',
    cachePolicy: 'uncached',
    originRequest: 'allViewerExceptHost',
    allowedMethods: 'GET_HEAD',
    cachedMethods: 'GET_HEAD',
    compress: false,
  },
  {
    name: 'api',
    pathPattern: `${API_PREFIX}/*`,
    origin: 'api',
    cachePolicy: 'uncached',
    // Host must stay the API's own name, or API Gateway cannot route the request.
    originRequest: 'allViewerExceptHost',
    allowedMethods: 'ALL',
    cachedMethods: 'GET_HEAD',
    compress: true,
  },
  {
    name: 'web',
    pathPattern: DEFAULT_PATH_PATTERN,
    origin: 'webApp',
    cachePolicy: 'webApp',
    originRequest: 'cacheKeyOnly',
    allowedMethods: 'GET_HEAD',
    cachedMethods: 'GET_HEAD',
    viewerRequest: 'directoryIndex',
    compress: true,
  },
];

const compiledPatterns = new Map<string, RegExp>();

/** CloudFront's path pattern match: case-sensitive, `*` any run of characters (slashes too), `?` one character. */
export function matchesPathPattern(pattern: string, path: string): boolean {
  let regex = compiledPatterns.get(pattern);
  if (regex === undefined) {
    const source = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`);
    compiledPatterns.set(pattern, regex);
  }
  return regex.test(path);
}

/** The behaviour CloudFront picks for a path: the first matching pattern, else the default. */
export function behaviourFor(path: string): Behaviour {
  return BEHAVIOURS.find((b) => matchesPathPattern(b.pathPattern, path)) ?? BEHAVIOURS.at(-1)!;
}

export function allowsMethod(behaviour: Behaviour, method: string): boolean {
  return (METHOD_SETS[behaviour.allowedMethods] as readonly string[]).includes(method);
}

/**
 * Error answers CloudFront keeps for ERROR_CACHING_MIN_TTL_SECONDS instead of its default 10 s, which would leave
 * a player that asked a moment too early stuck.
 */
export const CACHED_ERROR_STATUSES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504] as const;
export const ERROR_CACHING_MIN_TTL_SECONDS = 1;

/**
 * The one CORS header set, the one CloudFront's response headers policy sends on every behaviour (origin override:
 * it replaces what an origin says), so the local edge and the manifest function send it too. Players on other
 * origins read `Age` (hls.js reads it on playlists to tell how stale a cached one is), `Content-Length` (progress)
 * and `Date` (a clock offset for PROGRAM-DATE-TIME latency); `X-Cache`, which the local edge used to expose, is a
 * diagnostic no player reads. Ten minutes of preflight caching, as deployed; browsers cap longer values anyway.
 */
export const CORS = {
  allowMethods: METHOD_SETS.GET_HEAD_OPTIONS,
  allowHeaders: ['*'],
  exposeHeaders: ['Age', 'Content-Length', 'Date'],
  allowCredentials: false,
  maxAgeSeconds: 600,
  originOverride: true,
} as const;

/** Security headers of the same policy, each overriding the origin's. */
export const SECURITY_HEADERS = {
  strictTransportSecurity: { maxAgeSeconds: 730 * DAY_S, includeSubdomains: true },
  contentTypeOptions: 'nosniff',
  frameOptions: 'SAMEORIGIN',
  referrerPolicy: 'strict-origin-when-cross-origin',
  xssProtection: { protection: true, modeBlock: true },
} as const;

/** CORS response headers as CloudFront renders them for a CORS request from `allowOrigin`. */
export function corsHeaders(allowOrigin = '*'): Record<string, string> {
  return {
    'access-control-allow-origin': allowOrigin,
    'access-control-allow-methods': CORS.allowMethods.join(', '),
    'access-control-allow-headers': CORS.allowHeaders.join(', '),
    'access-control-expose-headers': CORS.exposeHeaders.join(', '),
    'access-control-max-age': String(CORS.maxAgeSeconds),
  };
}

/** Security response headers as CloudFront renders them. */
export function securityHeaders(): Record<string, string> {
  const { strictTransportSecurity: hsts, xssProtection: xss } = SECURITY_HEADERS;
  return {
    'strict-transport-security': `max-age=${hsts.maxAgeSeconds}${hsts.includeSubdomains ? '; includeSubDomains' : ''}`,
    'x-content-type-options': SECURITY_HEADERS.contentTypeOptions,
    'x-frame-options': SECURITY_HEADERS.frameOptions,
    'referrer-policy': SECURITY_HEADERS.referrerPolicy,
    'x-xss-protection': xss.protection ? `1${xss.modeBlock ? '; mode=block' : ''}` : '0',
  };
}
