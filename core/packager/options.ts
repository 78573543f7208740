import type { LiveStatePort } from '../live/state.js';
import type { Logger } from '../logger.js';
import type { MediaClass } from '../storage/keys.js';
import type { MediaStorage } from '../storage/storage.js';
import type { PartStore } from './part-store.js';
import type { WriteQueueBounds } from './write-queue.js';

export interface PackagerOptions {
  readonly storage: MediaStorage;
  readonly live: LiveStatePort;
  /**
   * Where parts go (decision D33): the live state's Redis, so only segments and init segments cost storage writes.
   * Without one, or while it fails, parts are written to `storage` as before.
   */
  readonly parts?: PartStore;
  /**
   * Part and segment targets of renditions opened without their own (RenditionSinkFactory.open's `targets`: the
   * ingest gives each rendition its stream's profile, decision D28).
   */
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  /** Complete segments in the live window; DEFAULT_WINDOW_SEGMENTS (20 x 500 ms = 10 s) when absent. */
  readonly windowSegments?: number;
  /** Wall clock in epoch ms (the PROGRAM-DATE-TIME anchor); Date.now by default. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  /**
   * Called once per part after its live-state publish (the PartPublishLatencyMs metric): `arrivedAtMs` is when the
   * fragment's last byte was written to the packager, `publishedAtMs` when the publish naming it completed (both
   * from `clock`). Not called for the final publish that marks the rendition ended.
   */
  readonly onPublish?: (event: PartPublished) => void;
  /** Writes given up, parts lost and publishes failed (the ingest's metrics, decision D21). */
  readonly onEvent?: (event: PackagerEvent) => void;
  /** Each rendition's write-queue bounds; DEFAULT_QUEUE_BOUNDS where absent. */
  readonly queue?: Partial<WriteQueueBounds>;
}

export interface PartPublished {
  readonly streamId: string;
  readonly rendition: string;
  readonly msn: number;
  readonly part: number;
  readonly arrivedAtMs: number;
  readonly publishedAtMs: number;
}

/**
 * Why parts were never listed: their own write failed; the write queue was full; they came while the rendition's
 * init segment was not stored; or they came after a loss, before a part a decoder could start at.
 */
export type LossReason = 'write-failed' | 'queue-full' | 'no-init' | 'no-keyframe';

/** What happened, without where (the rendition adds its stream and name). */
export type PackagerEventBody =
  | {
      readonly kind: 'write-failed';
      readonly key: string;
      readonly mediaClass: MediaClass;
      readonly error: string;
    }
  | { readonly kind: 'parts-lost'; readonly count: number; readonly reason: LossReason }
  | { readonly kind: 'publish-failed'; readonly error: string };

export type PackagerEvent = { readonly streamId: string; readonly rendition: string } & PackagerEventBody;

/** A rendition reads `degraded` this long after its last lost write or part (the status is sampled every second). */
export const DEGRADED_HOLD_MS = 30_000;
