import { CmafError, type Fragment, FragmentSplitter, type InitSegment } from '../cmaf/index.js';
import { DEFAULT_WINDOW_SEGMENTS, type RenditionInfo, type SegmentEntry, Segmenter } from '../hls/index.js';
import type { LiveStatePort, RenditionState } from '../live/state.js';
import type { Logger } from '../logger.js';
import type { ProducerStart, RenditionSink, RenditionSinkFactory } from '../media/rendition-sink.js';
import { type MediaClass, mediaKeys } from '../storage/keys.js';
import type { MediaStorage } from '../storage/storage.js';

export interface PackagerOptions {
  readonly storage: MediaStorage;
  readonly live: LiveStatePort;
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
}

export interface PartPublished {
  readonly streamId: string;
  readonly rendition: string;
  readonly msn: number;
  readonly part: number;
  readonly arrivedAtMs: number;
  readonly publishedAtMs: number;
}

/** Storage writes are retried this many times before the part is given up (and logged). */
const PUT_ATTEMPTS = 3;
const PUT_RETRY_DELAY_MS = 50;

/**
 * Turns each rung's fMP4 pipe into LL-HLS: splitter -> segmenter -> storage (part; segment when it closes) ->
 * live-state publish. Bytes are always stored before the publish that names them.
 */
export class Packager implements RenditionSinkFactory {
  constructor(private readonly options: PackagerOptions) {}

  open(streamId: string, rendition: string, start?: ProducerStart): RenditionSink {
    return new RenditionPackager(streamId, rendition, this.options, start);
  }
}

class RenditionPackager implements RenditionSink {
  private splitter = new FragmentSplitter();
  private readonly segmenter: Segmenter;
  private readonly clock: () => number;
  private queue: Promise<void>;
  /** Version of the init segment the next fragments use; 0 until the first init arrives. */
  private initVersion = 0;
  private lastInitVersion = 0;
  private info: RenditionInfo = { codecs: [] };
  /** Bytes of the open segment's parts, concatenated into the full segment when it closes. */
  private openParts: Uint8Array[] = [];
  private failed = false;
  private restartPending = false;
  /** The producer run's ingest anchor, handed to the segmenter with the run's init segment. */
  private start: ProducerStart | undefined;

  constructor(
    private readonly streamId: string,
    private readonly rendition: string,
    private readonly options: PackagerOptions,
    start?: ProducerStart,
  ) {
    this.start = start;
    this.clock = options.clock ?? Date.now;
    this.segmenter = new Segmenter({
      partTargetMs: options.partTargetMs,
      segmentTargetMs: options.segmentTargetMs,
      windowSegments: options.windowSegments ?? DEFAULT_WINDOW_SEGMENTS,
    });
    this.queue = this.resume();
  }

  write(chunk: Uint8Array): void {
    if (this.failed) return;
    const arrivedAtMs = this.clock();
    let outputs: ReturnType<FragmentSplitter['push']>;
    try {
      outputs = this.splitter.push(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    for (const output of outputs) {
      this.enqueue(() =>
        output.kind === 'init' ? this.onInit(output) : this.onFragment(output, arrivedAtMs),
      );
    }
  }

  restart(start?: ProducerStart): void {
    this.splitter = new FragmentSplitter();
    this.start = start;
    this.failed = false;
    this.restartPending = true;
  }

  async end(): Promise<void> {
    try {
      if (!this.failed) this.splitter.end();
    } catch (error) {
      this.fail(error);
    }
    this.enqueue(async () => {
      const closed = this.segmenter.finish();
      if (closed !== undefined) await this.storeSegment(closed);
      const last =
        closed === undefined ? { msn: 0, part: 0 } : { msn: closed.msn, part: closed.partCount - 1 };
      await this.publish(last);
    });
    await this.queue;
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.options.logger?.error('packaging step failed', {
        streamId: this.streamId,
        rendition: this.rendition,
        error,
      });
    });
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.options.logger?.error('fMP4 refused: rendition stopped until the producer restarts', {
      streamId: this.streamId,
      rendition: this.rendition,
      code: error instanceof CmafError ? error.code : 'internal',
      message: error instanceof Error ? error.message : String(error),
    });
  }

  /** An earlier process may have published this rendition: carry on its numbering after a discontinuity. */
  private async resume(): Promise<void> {
    let previous: RenditionState | undefined;
    try {
      previous = (await this.options.live.read(this.streamId))?.renditions.get(this.rendition);
    } catch (error) {
      this.options.logger?.warn('could not read previous live state; starting afresh', {
        streamId: this.streamId,
        error,
      });
    }
    if (previous === undefined) return;
    this.lastInitVersion = previous.timeline.initVersion;
    this.segmenter.resume(previous.timeline, this.lastInitVersion);
    const open = previous.timeline.open;
    if (open !== undefined && open.parts.length > 0) {
      // The earlier process died before closing this segment: build it from its stored parts.
      const parts = await Promise.all(
        open.parts.map((_, i) =>
          this.options.storage.get(mediaKeys.part(this.streamId, this.rendition, open.msn, i)),
        ),
      );
      if (parts.every((p) => p !== undefined)) {
        await this.put(mediaKeys.segment(this.streamId, this.rendition, open.msn), concat(parts), 'segment');
      }
    }
  }

  private async onInit(init: InitSegment): Promise<void> {
    this.initVersion = ++this.lastInitVersion;
    if (this.restartPending || this.initVersion > 1) this.segmenter.restart(this.initVersion);
    this.restartPending = false;
    const anchorMs = this.start?.ingestClock?.() ?? this.start?.ingestAnchorMs;
    if (anchorMs !== undefined) this.segmenter.setIngestAnchor(anchorMs);
    this.start = undefined;
    const video = init.info.timingTrack;
    this.info = {
      codecs: init.info.codecs,
      ...(video.width !== undefined && video.height !== undefined
        ? { width: video.width, height: video.height }
        : {}),
    };
    await this.put(mediaKeys.init(this.streamId, this.rendition, this.initVersion), init.bytes, 'init');
  }

  private async onFragment(fragment: Fragment, arrivedAtMs: number): Promise<void> {
    if (this.initVersion === 0) return;
    if (this.info.frameRate === undefined && fragment.duration > 0) {
      const frames = fragment.timing.timing.sampleCount;
      this.info = {
        ...this.info,
        frameRate: Math.round(((frames * fragment.timescale) / fragment.duration) * 1000) / 1000,
      };
    }
    const placement = this.segmenter.addPart(
      {
        baseDecodeTime: fragment.baseDecodeTime,
        duration: fragment.duration,
        timescale: fragment.timescale,
        independent: fragment.independent,
        bytes: fragment.bytes.byteLength,
        initVersion: this.initVersion,
      },
      arrivedAtMs,
    );
    const writes: Promise<void>[] = [];
    if (placement.closed !== undefined) {
      writes.push(this.storeSegment(placement.closed));
    }
    this.openParts.push(fragment.bytes);
    writes.push(
      this.put(
        mediaKeys.part(this.streamId, this.rendition, placement.msn, placement.part),
        fragment.bytes,
        'part',
      ),
    );
    await Promise.all(writes);
    await this.publish(placement, arrivedAtMs);
  }

  /** Stores a closed segment from the parts buffered for it (all but the newest part, which opened the next one). */
  private async storeSegment(closed: SegmentEntry): Promise<void> {
    const parts = this.openParts.slice(0, closed.partCount);
    this.openParts = this.openParts.slice(closed.partCount);
    if (parts.length !== closed.partCount) return; // parts from before a resume are not in memory
    await this.put(mediaKeys.segment(this.streamId, this.rendition, closed.msn), concat(parts), 'segment');
  }

  /** Publishes the timeline; `arrivedAtMs` (when a new part is being published) reports its latency. */
  private async publish(at: { msn: number; part: number }, arrivedAtMs?: number): Promise<void> {
    const state: RenditionState = {
      v: 1,
      info: this.info,
      timeline: this.segmenter.timeline(),
      publishedAtMs: this.clock(),
    };
    await this.options.live.publish(this.streamId, this.rendition, state, at);
    if (arrivedAtMs === undefined || !this.options.onPublish) return;
    const event = { streamId: this.streamId, rendition: this.rendition, ...at, arrivedAtMs };
    this.options.onPublish({ ...event, publishedAtMs: this.clock() });
  }

  private async put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.storage.put(key, bytes, mediaClass);
        return;
      } catch (error) {
        if (attempt >= PUT_ATTEMPTS) throw error;
        await new Promise((r) => setTimeout(r, PUT_RETRY_DELAY_MS * attempt));
      }
    }
  }
}

function concat(parts: readonly (Uint8Array | undefined)[]): Uint8Array {
  const total = parts.reduce((sum, p) => sum + (p?.byteLength ?? 0), 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    if (p === undefined) continue;
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
