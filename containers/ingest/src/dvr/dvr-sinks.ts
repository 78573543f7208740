import { FragmentSplitter } from '../../../../core/cmaf/index.js';
import { dvrFiles, dvrKeys, newBroadcastId } from '../../../../core/contracts/names.js';
import {
  bandwidthStep,
  type DvrVariant,
  DvrWindow,
  dvrSegmentTargetMs,
  parseDvrPlaylist,
  renderDvrMultivariant,
} from '../../../../core/dvr/window.js';
import type { RenditionTargets } from '../../../../core/latency-profiles.js';
import type { Logger } from '../../../../core/logger.js';
import {
  type ProducerStart,
  type RenditionSink,
  type RenditionSinkFactory,
  teeSink,
} from '../../../../core/media/rendition-sink.js';
import { type RecordedObject, RecordingChunker } from '../../../../core/recordings/chunking.js';
import type { MediaStorage } from '../../../../core/storage/index.js';
import { retried } from '../retried.js';

export interface DvrOptions {
  readonly storage: MediaStorage;
  readonly logger: Pick<Logger, 'warn'>;
  /** media.dvrWindowS (MIRROR_DVR_WINDOW_S). */
  readonly windowS: number;
  readonly clock?: () => number;
}

/**
 * Bytes waiting for storage per rendition beyond the one segment always allowed: past it a DVR segment is dropped
 * (the next one is a discontinuity). A few 6 s segments of any rung.
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
const encoder = new TextEncoder();

/** One stream's DVR multivariant: its renditions' figures, rewritten when a listed figure changes. */
class StreamDvr {
  readonly variants = new Map<string, DvrVariant>();
  open = 0;
  private written = '';
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly streamId: string,
    private readonly put: (key: string, bytes: Uint8Array) => Promise<boolean>,
  ) {}

  update(variant: DvrVariant): Promise<void> {
    this.variants.set(variant.rendition, variant);
    const text = renderDvrMultivariant([...this.variants.values()]);
    if (text === this.written) return this.writes;
    this.written = text;
    this.writes = this.writes.then(async () => {
      if (!(await this.put(dvrKeys.multivariant(this.streamId), encoder.encode(text)))) this.written = '';
    });
    return this.writes;
  }
}

/** One rendition's DVR: its own splitter and chunker beside the packager's, writes in order, bounded. */
class RenditionDvr {
  private splitter = new FragmentSplitter();
  private chunker: RecordingChunker;
  private window: DvrWindow | undefined;
  private readonly loaded: Promise<void>;
  private writes: Promise<void>;
  private pending = 0;
  private codecs: readonly string[] = [];
  private peakBps = 0;
  private hasInit = false;
  /** Wall clock of this run's media time zero (PROGRAM-DATE-TIME, as the live playlist stamps it, D8). */
  private anchorMs: number | undefined;
  /** PROGRAM-DATE-TIME of the first fragment of the DVR segment being assembled. */
  private chunkStartMs: number | undefined;
  /** The next listed segment follows a gap, a reconnect or a window read back from storage: a discontinuity. */
  private discontinuity = false;

  constructor(
    private readonly owner: DvrSinks,
    private readonly stream: StreamDvr,
    private readonly streamId: string,
    private readonly rendition: string,
    private broadcast: string,
    private start: ProducerStart | undefined,
  ) {
    this.chunker = new RecordingChunker(owner.segmentTargetMs);
    stream.open += 1;
    // The stored playlist is the window's only state: a task taking the stream over continues its sequences.
    this.loaded = this.owner.options.storage
      .get(dvrKeys.playlist(streamId, rendition))
      .then((bytes) => {
        const state = bytes === undefined ? undefined : parseDvrPlaylist(new TextDecoder().decode(bytes));
        this.window = new DvrWindow(owner.windowMs, owner.segmentTargetMs, state);
        this.discontinuity = this.window.length > 0;
      })
      .catch((error: unknown) => {
        this.owner.options.logger.warn('dvr playlist read failed; the window starts afresh', {
          streamId,
          rendition,
          error: String(error),
        });
        this.window = new DvrWindow(owner.windowMs, owner.segmentTargetMs);
      });
    this.writes = this.loaded;
  }

  write(chunk: Uint8Array): void {
    let outputs: ReturnType<FragmentSplitter['push']>;
    try {
      outputs = this.splitter.push(chunk);
    } catch {
      // The packager reports the bad input; the DVR waits for the producer's restart.
      this.splitter = new FragmentSplitter();
      this.hasInit = false;
      return;
    }
    for (const out of outputs) {
      if (out.kind === 'init') {
        this.codecs = out.info.codecs;
        this.hasInit = true;
        this.anchorMs = this.start?.ingestClock?.() ?? this.start?.ingestAnchorMs;
        this.store(this.chunker.push(out));
        continue;
      }
      const mediaMs = (out.baseDecodeTime / out.timescale) * 1000;
      // Without the producer's clock, the first fragment's arrival stands for its media time.
      this.anchorMs ??= this.owner.clock() - mediaMs;
      const objects = this.chunker.push(out);
      this.store(objects);
      if (this.hasInit) this.chunkStartMs ??= this.anchorMs + mediaMs;
    }
  }

  restart(next?: ProducerStart): void {
    this.splitter = new FragmentSplitter();
    this.hasInit = false;
    this.anchorMs = undefined;
    this.start = next ?? this.start;
    if (next?.broadcast === undefined || next.broadcast === this.broadcast) {
      this.store(this.chunker.restart());
      return;
    }
    // A reconnect: the old broadcast's folder is closed, the new one numbers its segments and inits from 0.
    this.store(this.chunker.end());
    this.broadcast = next.broadcast;
    this.chunker = new RecordingChunker(this.owner.segmentTargetMs);
    this.writes = this.writes.then(() => {
      this.discontinuity = true;
    });
  }

  async end(): Promise<void> {
    this.store(this.chunker.end());
    await this.writes;
    this.stream.open -= 1;
    if (this.stream.open === 0) this.owner.closed(this.streamId, this.stream);
  }

  private store(objects: readonly RecordedObject[]): void {
    for (const o of objects) {
      const startMs = o.kind === 'chunk' ? this.chunkStartMs : undefined;
      if (o.kind === 'chunk') this.chunkStartMs = undefined;
      if (this.pending > 0 && this.pending + o.bytes.byteLength > MAX_PENDING_BYTES) {
        this.owner.options.logger.warn('dvr segment dropped: storage behind', {
          streamId: this.streamId,
          rendition: this.rendition,
        });
        this.writes = this.writes.then(() => {
          this.discontinuity = true;
        });
        continue;
      }
      this.pending += o.bytes.byteLength;
      const broadcast = this.broadcast;
      this.writes = this.writes.then(async () => {
        const key =
          o.kind === 'init'
            ? dvrKeys.init(this.streamId, this.rendition, broadcast, o.version)
            : dvrKeys.chunk(this.streamId, this.rendition, broadcast, o.index);
        const stored = await this.owner.put(key, o.bytes, o.kind === 'init' ? 'init' : 'segment');
        this.pending -= o.bytes.byteLength;
        if (o.kind === 'init') return;
        if (!stored || startMs === undefined) {
          this.discontinuity = true;
          return;
        }
        await this.list(broadcast, o.index, o.initVersion, o.durationS, o.discontinuity, startMs, o.bytes);
      });
    }
  }

  /** The stored segment joins the window; the playlist is rewritten, then the multivariant if a figure moved. */
  private async list(
    broadcast: string,
    index: number,
    initVersion: number,
    durationS: number,
    restarted: boolean,
    startMs: number,
    bytes: Uint8Array,
  ): Promise<void> {
    const window = this.window!;
    window.add({
      uri: dvrFiles.chunk(broadcast, index),
      mapUri: dvrFiles.init(broadcast, initVersion),
      durationS,
      startMs,
      discontinuity: restarted || this.discontinuity,
    });
    this.discontinuity = false;
    if (durationS > 0) this.peakBps = Math.max(this.peakBps, (bytes.byteLength * 8) / durationS);
    await this.owner.put(
      dvrKeys.playlist(this.streamId, this.rendition),
      encoder.encode(window.render()),
      'segment',
    );
    await this.stream.update({
      rendition: this.rendition,
      bandwidth: bandwidthStep(this.peakBps),
      codecs: this.codecs,
    });
  }
}

/**
 * Wraps the sink factory (decision D43): each rendition's fMP4 goes on unchanged and into a DVR window of long
 * segments assembled from the short ones, stored under the broadcast's folder with the live segments' lifecycle
 * class, and listed by `/{stream}/{rendition}/dvr.m3u8` and `/{stream}/dvr.m3u8`, whatever the stream's `record` flag.
 */
export class DvrSinks implements RenditionSinkFactory {
  readonly windowMs: number;
  readonly segmentTargetMs: number;
  readonly clock: () => number;
  /** Streams with an open rendition: one entry per live stream, dropped when its last rendition ends. */
  private readonly streams = new Map<string, StreamDvr>();

  constructor(
    private readonly inner: RenditionSinkFactory,
    readonly options: DvrOptions,
  ) {
    this.windowMs = options.windowS * 1000;
    this.segmentTargetMs = dvrSegmentTargetMs(options.windowS);
    this.clock = options.clock ?? Date.now;
  }

  open(
    streamId: string,
    rendition: string,
    start?: ProducerStart,
    targets?: RenditionTargets,
  ): RenditionSink {
    const sink = this.inner.open(streamId, rendition, start, targets);
    let stream = this.streams.get(streamId);
    if (stream === undefined) {
      stream = new StreamDvr(streamId, (key, bytes) => this.put(key, bytes, 'segment'));
      this.streams.set(streamId, stream);
    }
    const dvr = new RenditionDvr(
      this,
      stream,
      streamId,
      rendition,
      start?.broadcast ?? newBroadcastId(this.clock()),
      start,
    );
    return teeSink(sink, dvr);
  }

  storage(streamId: string) {
    return this.inner.storage?.(streamId) ?? [];
  }

  closed(streamId: string, stream: StreamDvr): void {
    if (this.streams.get(streamId) === stream) this.streams.delete(streamId);
  }

  /** A failed put is retried twice, then logged: the DVR lists only what was stored. */
  async put(key: string, bytes: Uint8Array, mediaClass: 'segment' | 'init'): Promise<boolean> {
    try {
      await retried(() => this.options.storage.put(key, bytes, mediaClass));
      return true;
    } catch (error) {
      this.options.logger.warn('dvr write failed', { key, error: String(error) });
      return false;
    }
  }
}
