/**
 * Streams an instance recently served as live, so a playlist request that finds no live state can tell "this stream
 * is briefly gone" (a Redis restart that lost the state before the ingest republished, a camera reconnecting) from
 * "this stream does not exist". The first answers 503 + Retry-After, which players retry; the second 404, which
 * hls.js does not retry (4xx is final to it), so a 404 during a short gap ends playback for good.
 *
 * Per instance and in memory: a Lambda instance that never served the stream answers 404 as before, which is what a
 * player that has never played it should see anyway. Bounded by entries (least recently seen evicted first) and by
 * age (an entry older than the window is forgotten when looked at).
 */
export interface RecentlyLiveOptions {
  /** At most this many streams remembered; the least recently seen goes first. */
  readonly maxEntries?: number;
  /** How long after it was last seen live a stream counts as "briefly gone". */
  readonly windowMs?: number;
}

/** 10,000 ids of at most a few dozen characters: well under a few MB per instance. */
export const RECENTLY_LIVE_MAX_ENTRIES = 10_000;
/** Longer than a Redis restart, a failover or an encoder's reconnect loop; shorter than "the broadcast is over". */
export const RECENTLY_LIVE_WINDOW_MS = 5 * 60_000;

export class RecentlyLive {
  readonly #maxEntries: number;
  readonly #windowMs: number;
  /** Insertion order is recency order: seen() moves an id to the end, eviction takes from the front. */
  readonly #lastSeen = new Map<string, number>();

  constructor(options: RecentlyLiveOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? RECENTLY_LIVE_MAX_ENTRIES);
    this.#windowMs = options.windowMs ?? RECENTLY_LIVE_WINDOW_MS;
  }

  /** The stream was served as live at `nowMs`. */
  seen(streamId: string, nowMs: number): void {
    this.#lastSeen.delete(streamId);
    this.#lastSeen.set(streamId, nowMs);
    while (this.#lastSeen.size > this.#maxEntries) {
      const oldest = this.#lastSeen.keys().next().value as string;
      this.#lastSeen.delete(oldest);
    }
  }

  /** Whether the stream was served as live within the window before `nowMs`. */
  wasLive(streamId: string, nowMs: number): boolean {
    const at = this.#lastSeen.get(streamId);
    if (at === undefined) return false;
    if (nowMs - at > this.#windowMs) {
      this.#lastSeen.delete(streamId);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.#lastSeen.size;
  }
}
