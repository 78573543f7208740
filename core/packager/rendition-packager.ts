import { CmafError, type Fragment, FragmentSplitter, type InitSegment } from '../cmaf/index.js';
import {
  DEFAULT_WINDOW_SEGMENTS,
  type LostMedia,
  lastPosition,
  type RenditionInfo,
  type SegmentEntry,
  Segmenter,
  sequenceFloor,
} from '../hls/index.js';
import { RENDITION_STATE_VERSION, type RenditionState, type SequenceEnd } from '../live/state.js';
import { silentLogger } from '../logger.js';
import type {
  EndOptions,
  ProducerStart,
  RenditionSink,
  RenditionStorageReport,
} from '../media/rendition-sink.js';
import { mediaKeys, newBroadcastId } from '../storage/keys.js';
import { Backoff, concat, MediaWriter } from './media-writer.js';
import {
  DEGRADED_HOLD_MS,
  type LossReason,
  type PackagerEventBody,
  type PackagerOptions,
} from './options.js';
import { PartWriter } from './part-store.js';
import { PendingSegments } from './pending-segments.js';
import { PublishGate } from './publish-gate.js';
import { DEFAULT_QUEUE_BOUNDS, WriteQueue } from './write-queue.js';

/** An init segment waiting to be stored: nothing that decodes with it is placed until it is. */
interface PendingInit {
  readonly version: number;
  readonly folder: string;
  readonly bytes: Uint8Array;
  readonly anchorMs: number | undefined;
  /** Codecs and size read from it: published once it is stored, with the first parts that use it. */
  readonly info: RenditionInfo;
  /** A new producer run (segmenter.restart) rather than the same run in a new folder (segmenter.useInit). */
  readonly newRun: boolean;
  readonly backoff: Backoff;
}

/** One rendition's packaging (see Packager). */
export class RenditionPackager implements RenditionSink {
  private splitter = new FragmentSplitter();
  private readonly segmenter: Segmenter;
  private readonly clock: () => number;
  private readonly queue: WriteQueue;
  private readonly writer: MediaWriter;
  private readonly parts: PartWriter; // to the part store (decision D33), or to storage while it fails
  private readonly pending: PendingSegments;
  /** Version of the stored init segment the next fragments use; 0 until one is stored. */
  private initVersion = 0;
  /** Init versions handed out in `folder`. */
  private lastInitVersion = 0;
  private initsSeen = 0;
  /** The producer's latest init segment: stored again under a new folder after a loss. */
  private initBytes: Uint8Array | undefined;
  private pendingInit: PendingInit | undefined;
  private info: RenditionInfo = { codecs: [] };
  /** Bytes of the open segment's parts, concatenated into the full segment when it closes. */
  private openParts: Uint8Array[] = [];
  private failed = false;
  private restartPending = false;
  /** Fragments were refused by the full queue since the last one queued: a loss marker goes before the next. */
  private hole = false;
  private lostParts = 0;
  private lastLossAtMs: number | undefined;
  /** The producer run's ingest anchor and broadcast, handed to the segmenter with the run's init segment. */
  private start: ProducerStart | undefined;
  /** Live-state publishes, kept from stopping the rendition while Redis is unreachable. */
  private readonly publishes: PublishGate;
  /** The broadcast the producer names (decision D16): a new one is a reconnect. */
  private producerBroadcast: string;
  /** Where the init and parts being written go: the broadcast, or a fresh folder after a loss (decision D21). */
  private folder: string;

  constructor(
    private readonly streamId: string,
    private readonly rendition: string,
    private readonly options: PackagerOptions,
    start: ProducerStart | undefined,
    private readonly onEnded: () => void,
  ) {
    this.start = start;
    this.clock = options.clock ?? Date.now;
    const where = { streamId, rendition };
    const log = options.logger ?? silentLogger;
    this.publishes = new PublishGate(log, where, this.clock);
    this.writer = new MediaWriter(options.storage, this.clock, log, where, (f) =>
      this.emit({ kind: 'write-failed', ...f }),
    );
    this.pending = new PendingSegments(this.writer, this.clock, log, where);
    this.parts = new PartWriter(options, this.writer, log, where);
    // A producer that names no broadcast (a local encoder, a test) still gets fresh names for what it writes.
    this.producerBroadcast = start?.broadcast ?? newBroadcastId(this.clock());
    this.folder = this.producerBroadcast;
    this.segmenter = new Segmenter({
      partTargetMs: options.partTargetMs,
      segmentTargetMs: options.segmentTargetMs,
      windowSegments: options.windowSegments ?? DEFAULT_WINDOW_SEGMENTS,
      broadcast: this.folder,
      // Without a previous state to resume (read below), numbers start at the wall-clock floor, above every number an
      // earlier broadcast of this stream used (decision D24); resume() replaces it with the previous numbering.
      startAt: sequenceFloor(this.clock()),
    });
    this.queue = new WriteQueue({ ...DEFAULT_QUEUE_BOUNDS, ...options.queue }, (error: unknown) => {
      log.error('packaging step failed', { ...where, error });
    });
    this.queue.run(() => this.resume());
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
      if (output.kind === 'init') {
        this.markHole();
        this.queue.run(() => this.onInit(output));
        continue;
      }
      const bytes = output.bytes.byteLength;
      if (this.queue.hasRoom(bytes)) this.markHole();
      if (!this.queue.offer(bytes, () => this.onFragment(output, arrivedAtMs))) {
        this.hole = true;
        this.countLost(1, 'queue-full');
      }
    }
  }

  restart(start?: ProducerStart): void {
    this.splitter = new FragmentSplitter();
    this.failed = false;
    this.markHole();
    // In queue order: fragments of the run before still queued keep that run's broadcast and anchor.
    this.queue.run(async () => {
      this.start = start;
      this.restartPending = true;
    });
  }

  async end(options: EndOptions = {}): Promise<void> {
    try {
      if (!this.failed) this.splitter.end();
    } catch (error) {
      this.fail(error);
    }
    this.markHole();
    this.queue.run(async () => {
      const closed = this.segmenter.finish(!options.handover);
      if (closed !== undefined) await this.storeSegment(closed);
      // One last try for segments still missing: if one stays missing, the final publish (which would name it) is
      // held back too, and the rendition's state expires instead of ending (LIVE_TTL_S).
      await this.pending.retry(this.segmenter.windowStartMsn, true);
      const timeline = this.segmenter.timeline();
      const last = lastPosition(timeline) ?? { msn: timeline.mediaSequence, part: 0 };
      await this.publish({ msn: last.msn, part: last.part ?? 0 }, undefined, true);
    });
    await this.queue.idle();
    this.onEnded();
  }

  storage(): RenditionStorageReport {
    const now = this.clock();
    const recent = (atMs: number | undefined) => atMs !== undefined && now - atMs < DEGRADED_HOLD_MS;
    const recovering =
      this.pendingInit !== undefined ||
      this.pending.count > 0 ||
      this.segmenter.awaitingKeyframe ||
      recent(this.writer.lastFailureAtMs) ||
      recent(this.lastLossAtMs);
    return {
      rendition: this.rendition,
      state: (this.pendingInit?.backoff.failures ?? 0) > 0 ? 'init-failed' : recovering ? 'degraded' : 'ok',
      failedWrites: this.writer.failedWrites,
      lostParts: this.lostParts,
      pendingSegments: this.pending.count,
      folder: this.folder,
      ...(this.writer.lastError === undefined ? {} : { lastError: this.writer.lastError }),
    };
  }

  /** Queues a loss marker where fragments were refused, before whatever is queued next. */
  private markHole(): void {
    if (!this.hole) return;
    this.hole = false;
    this.queue.run(() => this.afterLoss(this.segmenter.lost()));
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

  private emit(event: PackagerEventBody): void {
    this.options.onEvent?.({ streamId: this.streamId, rendition: this.rendition, ...event });
  }

  private countLost(count: number, reason: LossReason): void {
    this.lostParts += count;
    this.lastLossAtMs = this.clock();
    this.emit({ kind: 'parts-lost', count, reason });
  }

  /**
   * No live state to resume (it expired, or Redis lost it): the wall-clock floor already keeps media sequence
   * numbers above every earlier timeline's, but the discontinuity floor counts days, so the numbers the last
   * timeline ended with (kept without expiry) lift both: DISCONTINUITY-SEQUENCE never goes back (hls.js aligns
   * timelines by it and stalls when it does).
   */
  private async continueNumbering(): Promise<void> {
    let last: SequenceEnd | undefined;
    try {
      last = await this.options.live.lastSequences?.(this.streamId, this.rendition);
    } catch (error) {
      this.options.logger?.warn('could not read the last sequence numbers; starting at the floor', {
        streamId: this.streamId,
        error,
      });
    }
    if (last !== undefined) this.segmenter.startAbove(last);
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
    if (previous === undefined) {
      await this.continueNumbering();
      return;
    }
    // Init versions count within a broadcast; an earlier process's broadcast is always another one.
    this.lastInitVersion = previous.timeline.broadcast === this.folder ? previous.timeline.initVersion : 0;
    this.segmenter.resume(previous.timeline, this.lastInitVersion);
    const open = previous.timeline.open;
    if (open !== undefined && open.parts.length > 0) {
      // The earlier process died before closing this segment: build it from its stored parts, in its broadcast.
      const parts = await this.parts.getAll(
        open.parts.map((_, i) => mediaKeys.part(this.streamId, this.rendition, open.broadcast, open.msn, i)),
      );
      const key = mediaKeys.segment(this.streamId, this.rendition, open.broadcast, open.msn);
      // Listed now as a complete segment: stored, or pending (publishes wait for it), never named while missing.
      await this.putSegment(key, parts.every((p) => p !== undefined) ? concat(parts) : undefined, open.msn);
    }
  }

  private async onInit(init: InitSegment): Promise<void> {
    const next = this.start?.broadcast;
    if (next !== undefined && next !== this.producerBroadcast) {
      // A reconnect: a new folder, whose init versions start again at 1.
      this.producerBroadcast = next;
      this.folder = next;
      this.lastInitVersion = 0;
    }
    const newRun = this.restartPending || this.initsSeen > 0;
    this.restartPending = false;
    this.initsSeen += 1;
    const anchorMs = this.start?.ingestClock?.() ?? this.start?.ingestAnchorMs;
    this.start = undefined;
    const video = init.info.timingTrack;
    const info: RenditionInfo = {
      codecs: init.info.codecs,
      ...(video.width !== undefined && video.height !== undefined
        ? { width: video.width, height: video.height }
        : {}),
    };
    this.initBytes = init.bytes;
    // A newer init supersedes one still pending: that version is never used (nor named).
    const pending: PendingInit = {
      version: ++this.lastInitVersion,
      folder: this.folder,
      bytes: init.bytes,
      anchorMs,
      info,
      newRun,
      backoff: new Backoff(),
    };
    this.pendingInit = pending;
    if (await this.writer.put(this.initKey(pending), pending.bytes, 'init')) {
      this.activate(pending);
      return;
    }
    pending.backoff.failed(this.clock());
    // Nothing that decodes with this init may be listed before it is stored: the previous run's open segment ends
    // here, and fragments are dropped until a retry (onFragment) stores it.
    await this.afterLoss(this.segmenter.lost());
  }

  private initKey(p: PendingInit): string {
    return mediaKeys.init(this.streamId, this.rendition, p.folder, p.version);
  }

  private activate(p: PendingInit): void {
    this.pendingInit = undefined;
    this.initVersion = p.version;
    this.info = p.info;
    if (p.newRun) this.segmenter.restart(p.version, p.folder);
    else this.segmenter.useInit(p.version, p.folder);
    if (p.anchorMs !== undefined) this.segmenter.setIngestAnchor(p.anchorMs);
  }

  /** A pending init is tried when its backoff allows; true once it is stored. */
  private async initReady(): Promise<boolean> {
    const p = this.pendingInit;
    if (p === undefined) return true;
    if (!p.backoff.due(this.clock())) return false;
    if (!(await this.writer.tryOnce(this.initKey(p), p.bytes, 'init'))) {
      p.backoff.failed(this.clock());
      return false;
    }
    this.activate(p);
    this.options.logger?.info('init segment stored: rendition publishing again', {
      streamId: this.streamId,
      rendition: this.rendition,
      folder: p.folder,
      attempts: p.backoff.failures + 1,
    });
    return true;
  }

  private async onFragment(fragment: Fragment, arrivedAtMs: number): Promise<void> {
    if (!(await this.initReady())) {
      this.countLost(1, 'no-init');
      return;
    }
    if (this.initVersion === 0) return;
    await this.pending.retry(this.segmenter.windowStartMsn);
    if (this.info.frameRate === undefined && fragment.duration > 0) {
      const frames = fragment.timing.timing.sampleCount;
      this.info = {
        ...this.info,
        frameRate: Math.round(((frames * fragment.timescale) / fragment.duration) * 1000) / 1000,
      };
    }
    const input = {
      baseDecodeTime: fragment.baseDecodeTime,
      duration: fragment.duration,
      timescale: fragment.timescale,
      independent: fragment.independent,
      bytes: fragment.bytes.byteLength,
      initVersion: this.initVersion,
    };
    if (!this.segmenter.admit(input)) {
      this.countLost(1, 'no-keyframe');
      return;
    }
    const placement = this.segmenter.addPart(input, arrivedAtMs);
    // The closed segment's bytes are taken from openParts before this part joins them.
    const segmentStored = placement.closed === undefined ? undefined : this.storeSegment(placement.closed);
    this.openParts.push(fragment.bytes);
    const key = mediaKeys.part(this.streamId, this.rendition, this.folder, placement.msn, placement.part);
    const [stored] = await Promise.all([this.parts.put(key, fragment.bytes, placement.part), segmentStored]);
    if (!stored) {
      this.openParts.pop();
      this.countLost(1, 'write-failed');
      await this.afterLoss(this.segmenter.lost(placement));
      return;
    }
    await this.publish(placement, arrivedAtMs);
  }

  /**
   * After lost(): store the segment it closed, move to a fresh folder if the lost part had opened its segment (its
   * name may exist: the next segment reuses its msn, decision D21), and publish the shortened timeline.
   */
  private async afterLoss(lost: LostMedia): Promise<void> {
    if (lost.closed !== undefined) await this.storeSegment(lost.closed);
    // Only a part taken back can leave its segment empty, and parts are placed only once the init is stored.
    if (lost.discarded !== undefined && this.initBytes !== undefined) this.moveFolder(lost.discarded);
    const position = lastPosition(this.segmenter.timeline());
    if (position !== undefined) await this.publish({ msn: position.msn, part: position.part ?? 0 });
  }

  /** Continues in a fresh folder, from its init-1 (the producer's init stored again), before anything is placed. */
  private moveFolder(msn: number): void {
    this.folder = newBroadcastId(this.clock());
    this.lastInitVersion = 1;
    const bytes = this.initBytes!;
    this.pendingInit = {
      version: 1,
      folder: this.folder,
      bytes,
      anchorMs: undefined,
      info: this.info,
      newRun: false,
      backoff: new Backoff(),
    };
    this.options.logger?.info('part lost at a segment start: continuing in a new folder', {
      streamId: this.streamId,
      rendition: this.rendition,
      folder: this.folder,
      msn,
    });
  }

  /**
   * Stores a closed segment from the parts buffered for it (all but the newest part, which opened the next one).
   * Takes its bytes synchronously, so a part pushed right after the call is not among them.
   */
  private storeSegment(closed: SegmentEntry): Promise<void> {
    const parts = this.openParts.slice(0, closed.partCount);
    this.openParts = this.openParts.slice(closed.partCount);
    // The closed segment may belong to the broadcast before a reconnect: its own folder, not the current one.
    const key = mediaKeys.segment(this.streamId, this.rendition, closed.broadcast, closed.msn);
    return this.putSegment(key, parts.length === closed.partCount ? concat(parts) : undefined, closed.msn);
  }

  /** A segment that cannot be stored (or made: `bytes` undefined) becomes pending; publishes wait for it. */
  private async putSegment(key: string, bytes: Uint8Array | undefined, msn: number): Promise<void> {
    if (bytes !== undefined && (await this.writer.put(key, bytes, 'segment'))) return;
    this.pending.add({ msn, key, bytes });
  }

  /**
   * Publishes the timeline; `arrivedAtMs` (when a new part is being published) reports its latency. Never while a
   * listed segment is not stored (decision D21). Through a live-state outage the gate skips publishes (storing goes
   * on) and the first one through carries the whole timeline; `final` (the rendition's last publish) is always tried.
   */
  private async publish(
    at: { msn: number; part: number },
    arrivedAtMs?: number,
    final = false,
  ): Promise<void> {
    if (this.pending.blocks(this.segmenter.windowStartMsn)) return;
    const published = await this.publishes.run(async () => {
      const state: RenditionState = {
        v: RENDITION_STATE_VERSION,
        info: this.info,
        timeline: this.segmenter.timeline(),
        publishedAtMs: this.clock(),
      };
      try {
        await this.options.live.publish(this.streamId, this.rendition, state, at);
      } catch (error) {
        this.emit({ kind: 'publish-failed', error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    }, final);
    if (!published || arrivedAtMs === undefined || !this.options.onPublish) return;
    const event = { streamId: this.streamId, rendition: this.rendition, ...at, arrivedAtMs };
    this.options.onPublish({ ...event, publishedAtMs: this.clock() });
  }
}
