import {
  CACHED_ERROR_STATUSES,
  type CachePolicySpec,
  ERROR_CACHING_MIN_TTL_SECONDS,
} from '../../core/contracts/delivery.js';
import type { HttpResponse } from '../../core/http.js';

/** CloudFront's error caching minimum TTL as Mirror configures it: a player that asked early is not stuck. */
export const ERROR_TTL_MS = ERROR_CACHING_MIN_TTL_SECONDS * 1000;
const CACHED_ERRORS: ReadonlySet<number> = new Set(CACHED_ERROR_STATUSES);

export type TtlPolicy = Pick<CachePolicySpec, 'minTtlSeconds' | 'defaultTtlSeconds' | 'maxTtlSeconds'>;
/** No cache policy: the origin's Cache-Control alone decides, and a response without one is not stored. */
export const ORIGIN_DECIDES: TtlPolicy = { minTtlSeconds: 0, defaultTtlSeconds: 0, maxTtlSeconds: Infinity };

export interface CacheEntry {
  readonly response: HttpResponse;
  readonly storedAt: number;
  readonly expiresAt: number;
}

export type CacheStatus = 'hit' | 'miss' | 'collapsed' | 'error-hit';

export interface CacheStats {
  hits: number;
  misses: number;
  collapsed: number;
  originRequests: number;
  entries: number;
}

/**
 * Freshness of an origin response in ms, as CloudFront computes it under a cache policy: `s-maxage` wins over
 * `max-age` and is clamped to [min, max] TTL; without either the default TTL applies; `no-store`, `no-cache` and
 * `private` mean the minimum TTL. Errors CloudFront caches are kept for the error caching TTL, other errors not.
 */
export function ttlMs(
  response: HttpResponse,
  policy: TtlPolicy = ORIGIN_DECIDES,
  errorTtlMs = ERROR_TTL_MS,
): number {
  // Errors are kept for the error caching TTL whatever the origin says, as CloudFront's custom error
  // responses do: short enough that a player that asked too early is not stuck.
  if (response.status >= 400) return CACHED_ERRORS.has(response.status) ? errorTtlMs : 0;
  const directives = new Map<string, string | undefined>();
  for (const part of (response.headers['cache-control'] ?? '').split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name) directives.set(name.toLowerCase(), value);
  }
  const { minTtlSeconds: min, defaultTtlSeconds: fallback, maxTtlSeconds: max } = policy;
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private'))
    return min * 1000;
  const seconds = Number(directives.get('s-maxage') ?? directives.get('max-age') ?? 'NaN');
  if (!Number.isFinite(seconds)) return fallback * 1000;
  return Math.min(Math.max(seconds, min), max) * 1000;
}

/**
 * The edge cache: TTL from the origin's Cache-Control, and request collapsing: while the origin
 * answers one cache key, every other request for that key waits for the same answer instead of
 * reaching the origin (CloudFront does the same for identical cache keys; it is what keeps the
 * origin rate flat when a thousand players block on the same part).
 */
export class EdgeCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<HttpResponse>>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #errorTtlMs: number;
  readonly stats: CacheStats = { hits: 0, misses: 0, collapsed: 0, originRequests: 0, entries: 0 };

  constructor(options: { now?: () => number; maxEntries?: number; errorTtlMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 20_000;
    this.#errorTtlMs = options.errorTtlMs ?? ERROR_TTL_MS;
  }

  /** Answers from cache, or joins the request in flight, or asks the origin once and stores under `policy`. */
  async fetch(
    key: string,
    origin: () => Promise<HttpResponse>,
    policy: TtlPolicy = ORIGIN_DECIDES,
  ): Promise<{ response: HttpResponse; status: CacheStatus; ageSeconds: number }> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > now) {
        this.stats.hits++;
        return {
          response: entry.response,
          status: entry.response.status >= 400 ? 'error-hit' : 'hit',
          ageSeconds: Math.floor((now - entry.storedAt) / 1000),
        };
      }
      this.#entries.delete(key);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) {
      this.stats.collapsed++;
      return { response: await pending, status: 'collapsed', ageSeconds: 0 };
    }
    this.stats.misses++;
    this.stats.originRequests++;
    const request = origin().then(
      (response) => {
        this.#store(key, response, policy);
        return response;
      },
      (error: unknown) => {
        throw error;
      },
    );
    this.#inFlight.set(key, request);
    try {
      return { response: await request, status: 'miss', ageSeconds: 0 };
    } finally {
      this.#inFlight.delete(key);
    }
  }

  #store(key: string, response: HttpResponse, policy: TtlPolicy): void {
    const ttl = ttlMs(response, policy, this.#errorTtlMs);
    if (ttl <= 0) return;
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    const now = this.#now();
    this.#entries.set(key, { response, storedAt: now, expiresAt: now + ttl });
    this.stats.entries = this.#entries.size;
  }

  /** Drops expired entries, then the oldest quarter if still full (Map iterates in insertion order). */
  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    if (this.#entries.size < this.#maxEntries) return;
    let drop = Math.ceil(this.#maxEntries / 4);
    for (const key of this.#entries.keys()) {
      if (drop-- <= 0) break;
      this.#entries.delete(key);
    }
  }

  /** Removes one path's entries: the path itself and the path under any query string. */
  invalidateObject(path: string): number {
    let removed = 0;
    for (const key of this.#entries.keys()) {
      if (key === path || key.startsWith(`${path}?`)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    this.stats.entries = this.#entries.size;
    return removed;
  }

  /** Like a CloudFront invalidation: removes every entry whose key starts with the prefix. */
  invalidate(prefix: string): number {
    let removed = 0;
    for (const key of this.#entries.keys()) {
      if (key.startsWith(prefix)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    this.stats.entries = this.#entries.size;
    return removed;
  }
}
