import type { RenditionTargets } from '../latency-profiles.js';

/**
 * The seam between a producer of fragmented MP4 (the ingest transcoder, one pipe per rung)
 * and the LL-HLS packager that splits it into parts and publishes them.
 */
export interface RenditionSink {
  /** Bytes of the fMP4 stream exactly as ffmpeg writes them, in arbitrary chunks. */
  write(chunk: Uint8Array): void;
  /**
   * The producer restarted (ffmpeg respawned, encoder reconnected): what follows starts with a new init segment and
   * is a discontinuity; a reconnect passes its new broadcast.
   */
  restart(start?: ProducerStart): void;
  /**
   * The producer ended: close the open segment and publish what is complete. With `handover` the stream goes on
   * elsewhere (its encoder moves to another ingest task), so the playlist is not ended (no EXT-X-ENDLIST).
   */
  end(options?: EndOptions): Promise<void>;
  /** Whether this rendition can store and publish what it is given (decision D21); sinks without storage omit it. */
  storage?(): RenditionStorageReport;
}

/**
 * A rendition's storage health (decision D21): `init-failed` while its init segment is not stored (nothing of it can
 * be published), `degraded` while it recovers from a lost write (waiting for a keyframe, a segment stored late) or
 * for a while after one, `ok` otherwise.
 */
export const STORAGE_STATES = ['ok', 'degraded', 'init-failed'] as const;
export type StorageState = (typeof STORAGE_STATES)[number];

export interface RenditionStorageReport {
  readonly rendition: string;
  readonly state: StorageState;
  /** Writes given up since the sink opened (after their retries). */
  readonly failedWrites: number;
  /** Parts never listed: their write failed, the write queue was full, or they came while nothing could be listed. */
  readonly lostParts: number;
  /** Complete segments not stored yet: until they are (or leave the window) the rendition's publishes wait. */
  readonly pendingSegments: number;
  /** The folder being written: the broadcast, or a fresh one after a part was lost at a segment's start. */
  readonly folder: string;
  readonly lastError?: string;
}

/** What the producer knows about the run whose output follows (given at open and at each restart). */
export interface ProducerStart {
  /**
   * The broadcast (one encoder connection, decision D16) this run's output belongs to: the folder of every object
   * it writes. A restart without one continues the current broadcast (an ffmpeg restart within one connection);
   * a sink opened without one names a fresh broadcast itself.
   */
  readonly broadcast?: string;
  /**
   * Wall clock (epoch ms) when the first input bytes of this producer run arrived at ingest: the output's decode
   * time 0 is stamped with it (EXT-X-PROGRAM-DATE-TIME) unless ingestClock knows better. Without either the
   * packager uses the time the first fragment reached it, which runs ahead of the source by the encoder's delay.
   */
  readonly ingestAnchorMs?: number;
  /**
   * A better estimate of the same, read when the run's init segment arrives (the producer keeps learning while
   * ffmpeg probes): the wall clock of the run's media time zero. Falls back to ingestAnchorMs when undefined.
   */
  readonly ingestClock?: () => number | undefined;
}

export interface RenditionSinkFactory {
  /**
   * `targets`: the rendition's part and segment targets (its stream's latency profile, decision D28), fixed for the
   * sink's life; the factory's defaults when absent.
   */
  open(streamId: string, rendition: string, start?: ProducerStart, targets?: RenditionTargets): RenditionSink;
  /** The storage health of a stream's open renditions (the ingest status shows it). */
  storage?(streamId: string): readonly RenditionStorageReport[];
}

export interface EndOptions {
  /** The stream continues on another producer: publish what is complete without ending the playlist. */
  readonly handover?: boolean;
}

/** What a tee feeds beside a rendition's sink: the same bytes and restarts, ended with it. */
export interface SideSink {
  write(chunk: Uint8Array): void;
  restart(start?: ProducerStart): void;
  end(): Promise<void>;
}

/**
 * `main` goes on exactly as before (its storage report included) and `side` (the recorder, the DVR) sees what it
 * sees, after it; `end` waits for both.
 */
export function teeSink(main: RenditionSink, side: SideSink): RenditionSink {
  const tee: RenditionSink = {
    write: (chunk) => {
      main.write(chunk);
      side.write(chunk);
    },
    restart: (start) => {
      main.restart(start);
      side.restart(start);
    },
    end: async (options) => {
      await Promise.all([main.end(options), side.end()]);
    },
  };
  if (main.storage !== undefined) tee.storage = () => main.storage!();
  return tee;
}
