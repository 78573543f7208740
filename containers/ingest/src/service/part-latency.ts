import type { PartPublished } from '../../../../core/packager/index.js';

/** A rendition's figure older than this is not reported: the rendition stopped publishing (or the stream did). */
export const PART_LATENCY_FRESH_MS = 3000;
/** Bounds: the task's streams are bounded by its capacity, a ladder's renditions by its rungs; these are margins. */
export const MAX_TRACKED_STREAMS = 1024;
export const MAX_TRACKED_RENDITIONS = 16;

/**
 * The status's `latencyMs` (the operator page's latency column): per stream, each rendition's latest part publish
 * latency (its publish in the live state minus the arrival of its last byte at the packager: the same value as the
 * PartPublishLatencyMs metric), and the highest of the fresh ones, so a rendition falling behind shows.
 */
export class PartLatencies {
  private readonly streams = new Map<string, Map<string, { latencyMs: number; atMs: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The packager's onPublish. */
  record(part: PartPublished): void {
    let renditions = this.streams.get(part.streamId);
    if (!renditions) {
      if (this.streams.size >= MAX_TRACKED_STREAMS) {
        // Oldest-inserted first: a stream that ended without forget() is the likeliest to be first.
        const oldest = this.streams.keys().next().value;
        if (oldest !== undefined) this.streams.delete(oldest);
      }
      renditions = new Map();
      this.streams.set(part.streamId, renditions);
    }
    if (!renditions.has(part.rendition) && renditions.size >= MAX_TRACKED_RENDITIONS) return;
    renditions.set(part.rendition, {
      latencyMs: Math.max(0, part.publishedAtMs - part.arrivedAtMs),
      atMs: this.now(),
    });
  }

  /** The highest fresh rendition figure, ms; undefined when no part was published lately. */
  latencyMs(streamId: string): number | undefined {
    const renditions = this.streams.get(streamId);
    if (!renditions) return undefined;
    const since = this.now() - PART_LATENCY_FRESH_MS;
    let worst: number | undefined;
    for (const { latencyMs, atMs } of renditions.values()) {
      if (atMs >= since && (worst === undefined || latencyMs > worst)) worst = latencyMs;
    }
    return worst;
  }

  /** The stream's session ended on this task. */
  forget(streamId: string): void {
    this.streams.delete(streamId);
  }
}
