/**
 * Path routing and cache keys of the local edge: the same behaviours as the CloudFront distribution
 * (docs/decisions.md D2), so what works here works behind CloudFront.
 */

export type Route = 'playlist' | 'media' | 'control' | 'session' | 'api' | 'web';

/** CloudFront routes by extension and prefix; order matters as it does for cache behaviours. */
export function routeFor(path: string): Route {
  if (path === '/api/control' || path.startsWith('/api/control/')) return 'control';
  if (path === '/api/sessions' || path.startsWith('/api/sessions/')) return 'session';
  if (path === '/api' || path.startsWith('/api/')) return 'api';
  if (path.endsWith('.m3u8')) return 'playlist';
  if (path.endsWith('.m4s') || path.endsWith('.mp4')) return 'media';
  return 'web';
}

/**
 * The only query parameters in a playlist's cache key: the LL-HLS delivery directives.
 * Anything else (cache busters, tracking) is dropped from the key and from the origin request,
 * exactly as a CloudFront cache policy with an allow-list does.
 */
export const PLAYLIST_QUERY_KEYS = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;

/** Query the origin sees for a route: the allow-listed directives for playlists, nothing for media. */
export function originQuery(route: Route, query: Readonly<Record<string, string>>): Record<string, string> {
  if (route === 'playlist') {
    const kept: Record<string, string> = {};
    for (const name of PLAYLIST_QUERY_KEYS) {
      const value = query[name];
      if (value !== undefined) kept[name] = value;
    }
    return kept;
  }
  if (route === 'media' || route === 'web') return {};
  return { ...query };
}

/** Cache key: path plus exactly the directives for playlists (fixed order), path alone for media; none for APIs. */
export function cacheKeyFor(
  route: Route,
  path: string,
  query: Readonly<Record<string, string>>,
): string | null {
  if (route === 'media') return path;
  if (route !== 'playlist') return null;
  const parts = PLAYLIST_QUERY_KEYS.filter((name) => query[name] !== undefined).map(
    (name) => `${name}=${query[name]}`,
  );
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

/** Stream id of a playlist or media path (`/{id}/...`), used for per-stream viewer counts. */
export function streamIdOf(path: string): string | undefined {
  const match = /^\/([a-z0-9][a-z0-9-]{0,62})\/[^/]+/.exec(path);
  return match?.[1];
}
