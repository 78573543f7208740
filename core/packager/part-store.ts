import { readHeader } from '../cmaf/boxes.js';
import { BLOCKING_PLAYLIST_MAX_AGE_S } from '../contracts/delivery.js';
import { PART_RETENTION_TARGETS } from '../hls/constants.js';
import type { Logger } from '../logger.js';
import { OutageNotice } from '../outage.js';
import type { MediaStorage } from '../storage/storage.js';
import type { MediaWriter } from './media-writer.js';
import type { PackagerOptions } from './options.js';

/**
 * Where parts live while players can ask for them (decision D33): the live state's Redis, one short-lived key per
 * part, instead of one S3 object per part. Parts are 133-400 ms long, so S3 billed 2.5-7.5 PUTs per rendition-second
 * for objects nobody reads after a minute; segments and init segments (DVR, recordings) stay in media storage.
 */
export interface PartStore {
  /** Stores a part under its media key for `ttlMs`; resolves once a reader can get all of it. */
  put(key: string, bytes: Uint8Array, ttlMs: number): Promise<void>;
  /** The part's bytes, or undefined (never stored, or expired). */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * How many times the store's connection became ready. A change means the server may have restarted empty (a
   * node restart, a failover to a replica behind): the writer then stores the open segment's parts again.
   */
  connections?(): number;
}

/**
 * A part must outlive every playlist that can still send a player to it:
 * - the blocking playlist responses that list it, which CloudFront keeps for BLOCKING_PLAYLIST_MAX_AGE_S per query
 *   (a player coming back from a stall asks for an old `_HLS_msn` and gets that response);
 * - the span the part stays listed: its segment while open, then PART_RETENTION_TARGETS target durations;
 * - PART_TTL_MARGIN_MS on top: a new ingest process resuming the rendition rebuilds the open segment from its
 *   parts (the publisher lease lapses in 5 s, an encoder reconnects in a few more), and a part fetched at the end of
 *   its listing reaches the origin a round trip later.
 * Once fetched, CloudFront keeps a part for a day (it is immutable), so the store only serves the first request per
 * Origin Shield and the rare edge that evicted it.
 */
export const PART_TTL_MARGIN_MS = 10_000;

/** How long a rendition's parts are kept in the part store, from its segment target (ms). */
export function partTtlMs(segmentTargetMs: number): number {
  const targetDurationMs = Math.max(1, Math.ceil(segmentTargetMs / 1000)) * 1000;
  return (
    BLOCKING_PLAYLIST_MAX_AGE_S * 1000 + (PART_RETENTION_TARGETS + 1) * targetDurationMs + PART_TTL_MARGIN_MS
  );
}

/**
 * While the part store fails, parts go to media storage (as before D33) and the store is tried again at most this
 * often, in the background: an awaited attempt would hold the rendition's write queue for up to the Redis command
 * timeout (1 s) per part. The live state is in the same Redis, so nothing is published meanwhile; the first publish
 * after the outage lists these parts, and the manifest function finds them in storage when the store misses.
 */
export const PART_STORE_PROBE_INTERVAL_MS = 500;

/**
 * Writes a rendition's parts: to the part store when there is one and it answers, else through the media writer to
 * storage (retries, failure counts). Resolves true once the part is stored somewhere a reader looks (the manifest
 * function reads the store, then storage), so the publish that names it may follow; never rejects.
 */
export class PartWriter {
  private readonly outage: OutageNotice;
  private lastFailureAtMs = 0;
  private probing = false;
  /** Parts written to storage because the store failed (a figure for tests and the status). */
  fallbacks = 0;
  /**
   * The open segment's parts, kept (by reference: the packager holds the same bytes to build the segment) so they
   * can be stored again after the store lost them; a closed segment's parts are cut from it (partOfSegment).
   */
  private open: { readonly key: string; readonly bytes: Uint8Array }[] = [];
  private connections: number | undefined;
  /** The store failed or reconnected since the last write: the open segment's parts may be gone from it. */
  private rewrite = false;

  private readonly store: PartStore | undefined;
  private readonly storage: MediaStorage;
  private readonly ttlMs: number;
  private readonly clock: () => number;

  /**
   * From the packager's options: its part store (if any), media storage (the fallback, written through `writer`),
   * the rendition's segment target (the TTL) and clock.
   */
  constructor(
    options: Pick<PackagerOptions, 'parts' | 'storage' | 'segmentTargetMs' | 'clock'>,
    private readonly writer: MediaWriter,
    log: Pick<Logger, 'warn' | 'info'>,
    private readonly where: Readonly<Record<string, unknown>>,
  ) {
    this.store = options.parts;
    this.storage = options.storage;
    this.ttlMs = partTtlMs(options.segmentTargetMs);
    this.clock = options.clock ?? Date.now;
    this.outage = new OutageNotice(log, 'part store writes', this.clock);
  }

  /** `index`: the part's index in its segment; 0 opens a new one (the previous one closed, its parts now stored in it). */
  async put(key: string, bytes: Uint8Array, index: number): Promise<boolean> {
    if (index === 0) this.open = [];
    const stored = await this.write(key, bytes);
    if (stored) this.open.push({ key, bytes });
    return stored;
  }

  private async write(key: string, bytes: Uint8Array): Promise<boolean> {
    const store = this.store;
    if (store === undefined) return this.writer.put(key, bytes, 'part');
    if (!this.outage.failing) {
      try {
        await this.restore(store);
        await store.put(key, bytes, this.ttlMs);
        return true;
      } catch (error) {
        this.failed(error);
      }
    } else this.probe(store, key, bytes);
    this.fallbacks += 1;
    return this.writer.put(key, bytes, 'part');
  }

  /** After a store failure or a reconnect, the open segment's parts again (at most one segment's worth). */
  private async restore(store: PartStore): Promise<void> {
    const connections = store.connections?.();
    if (this.connections !== undefined && connections !== this.connections) this.rewrite = true;
    this.connections = connections;
    if (!this.rewrite) return;
    await Promise.all(this.open.map((p) => store.put(p.key, p.bytes, this.ttlMs)));
    this.rewrite = false;
  }

  /** A stored part: from the store, else from storage (written there through a store outage); undefined if neither. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const stored = await this.store?.get(key).catch(() => undefined);
    return stored ?? this.storage.get(key);
  }

  /** Several parts at once (rebuilding a segment from its stored parts); undefined for each one unreadable. */
  getAll(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key).catch(() => undefined)));
  }

  private failed(error: unknown): void {
    this.rewrite = true;
    this.lastFailureAtMs = this.clock();
    this.outage.failed(error, { ...this.where, parts: 'written to media storage until the store answers' });
  }

  /**
   * One background attempt at a time, PART_STORE_PROBE_INTERVAL_MS after the last failure. A success also stores the
   * open segment's parts again at once: the live state is back too, and a publish probe may list them before the
   * next part is written.
   */
  private probe(store: PartStore, key: string, bytes: Uint8Array): void {
    if (this.probing || this.clock() - this.lastFailureAtMs < PART_STORE_PROBE_INTERVAL_MS) return;
    this.probing = true;
    store
      .put(key, bytes, this.ttlMs)
      .then(() => this.restore(store))
      .then(
        () => {
          this.probing = false;
          this.outage.succeeded(this.where);
        },
        (error: unknown) => {
          this.probing = false;
          this.failed(error);
        },
      );
  }
}

/**
 * Part `index` of a stored segment, cut from it: the packager stores a segment as its parts' bytes in order, and each
 * part is the fragment the splitter cut (any boxes after the previous part's 'mdat', then 'moof' and 'mdat'), so
 * part i ends at the segment's i-th 'mdat'. This serves a part the store no longer has (a Redis node that restarted
 * empty, an expired key a cached playlist still names) from its segment, without the timeline, for as long as the
 * segment is kept (the DVR window). Undefined when the segment has fewer parts or is not a box sequence.
 */
export function partOfSegment(segment: Uint8Array, index: number): Uint8Array | undefined {
  const peek = (offset: number, n: number) =>
    offset + n <= segment.byteLength ? segment.subarray(offset, offset + n) : undefined;
  let partStart = 0;
  let mdats = 0;
  for (let offset = 0; offset < segment.byteLength; ) {
    let header: ReturnType<typeof readHeader>;
    try {
      header = readHeader(peek, offset);
    } catch {
      return undefined;
    }
    if (header === undefined || header.size <= 0 || offset + header.size > segment.byteLength)
      return undefined;
    offset += header.size;
    if (header.type !== 'mdat') continue;
    if (mdats === index) return segment.subarray(partStart, offset);
    mdats += 1;
    partStart = offset;
  }
  return undefined;
}
