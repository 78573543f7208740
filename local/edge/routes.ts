/**
 * Path routing and cache keys of the local edge, read from the behaviour table the CloudFront distribution is
 * built from (core/contracts/delivery.ts, decision D2), so what works here works behind CloudFront.
 */

import { CONTROL_PATH, isUnderPath, SESSIONS_PATH } from '../../core/contracts/api-paths.js';
import {
  BEHAVIOURS,
  type Behaviour,
  type BehaviourName,
  behaviourFor,
  CACHE_POLICIES,
  type CachePolicySpec,
} from '../../core/contracts/delivery.js';
import { STREAM_ID_PATTERN } from '../../core/contracts/names.js';

/** A behaviour's traffic, `/api/*` split between the apps as API Gateway's routes split it. */
export type Route = Exclude<BehaviourName, 'api'> | 'control' | 'session' | 'api';

/** The behaviour CloudFront picks for the path (first matching pattern), then the API app for `/api/*`. */
export function routeFor(path: string): Route {
  const behaviour = behaviourFor(path);
  if (behaviour.name !== 'api') return behaviour.name;
  if (isUnderPath(path, CONTROL_PATH)) return 'control';
  if (isUnderPath(path, SESSIONS_PATH)) return 'session';
  return 'api';
}

/** The behaviour a route belongs to (`*.m4s` and `*.mp4` share their settings). */
export function behaviourOf(route: Route): Behaviour {
  const name: BehaviourName = route === 'control' || route === 'session' ? 'api' : route;
  return BEHAVIOURS.find((b) => b.name === name)!;
}

export function cachePolicyOf(route: Route): CachePolicySpec {
  return CACHE_POLICIES[behaviourOf(route).cachePolicy];
}

/**
 * The web app is not cached here, so a rebuilt app shows on the next reload; CloudFront caches it
 * (CachingOptimized) and every deployment invalidates it.
 */
const UNCACHED_LOCALLY: ReadonlySet<Route> = new Set(['web']);

/** The allow-listed query strings of a route's cache policy present in the request, in the policy's order. */
function keyedQuery(route: Route, query: Readonly<Record<string, string>>): [string, string][] {
  return cachePolicyOf(route)
    .queryStrings.filter((name) => query[name] !== undefined)
    .map((name) => [name, query[name]!]);
}

/**
 * Query the origin sees: everything where the behaviour forwards all viewer values (the APIs), else only the
 * cache key's query strings. Anything else (cache busters, tracking, a playback token) is dropped, exactly as
 * a CloudFront cache policy with an allow-list does.
 */
export function originQuery(route: Route, query: Readonly<Record<string, string>>): Record<string, string> {
  if (behaviourOf(route).originRequest === 'allViewerExceptHost') return { ...query };
  return Object.fromEntries(keyedQuery(route, query));
}

/** Cache key: path plus the policy's query strings (in its order); null where nothing is cached (APIs, web app). */
export function cacheKeyFor(
  route: Route,
  path: string,
  query: Readonly<Record<string, string>>,
): string | null {
  if (cachePolicyOf(route).maxTtlSeconds === 0 || UNCACHED_LOCALLY.has(route)) return null;
  const parts = keyedQuery(route, query).map(([name, value]) => `${name}=${value}`);
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

const STREAM_IN_PATH = new RegExp(`^/(${STREAM_ID_PATTERN})/[^/]+`);

/** Stream id of a playlist or media path (`/{id}/...`), used for per-stream viewer counts. */
export function streamIdOf(path: string): string | undefined {
  const match = STREAM_IN_PATH.exec(path);
  return match?.[1];
}
