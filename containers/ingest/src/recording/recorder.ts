import type { Redis } from 'ioredis';
import { FragmentSplitter } from '../../../../core/cmaf/index.js';
import { newBroadcastId, recordingId, recordingKeys } from '../../../../core/contracts/names.js';
import { LADDERS } from '../../../../core/ladder.js';
import type { RenditionTargets } from '../../../../core/latency-profiles.js';
import type { Logger } from '../../../../core/logger.js';
import type {
  EndOptions,
  ProducerStart,
  RenditionSink,
  RenditionSinkFactory,
} from '../../../../core/media/rendition-sink.js';
import {
  chunkTargetMs,
  type RecordedObject,
  RecordingChunker,
} from '../../../../core/recordings/chunking.js';
import { type RecordingEntry, recordingIndexKeys } from '../../../../core/recordings/entry.js';
import {
  type ListedChunk,
  MAX_LISTED_CHUNKS,
  renderRecordingMultivariant,
  renderVodPlaylist,
} from '../../../../core/recordings/playlist.js';
import type { MediaStorage } from '../../../../core/storage/index.js';
import { streamKeys } from '../../../../core/streams/keys.js';

export interface RecorderOptions {
  readonly storage: MediaStorage;
  readonly redis: Redis;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** media.recordingRetentionDays: how long index entries are kept (the bucket's lifecycle expires the objects). */
  readonly retentionDays: number;
  /**
   * Whether a stream records (its `record` flag, decision D40), asked when a rendition opens; every stream does
   * when absent. Output produced while the answer is awaited is chunked and its writes wait for it.
   */
  readonly records?: (streamId: string) => boolean | Promise<boolean>;
  /** A rendition's bitrate (bits/s), which sets its chunk duration; the ladder rung of that name by default. */
  readonly bitrateBps?: (rendition: string) => number;
  readonly clock?: () => number;
}

/**
 * Bytes waiting for storage per rendition (beyond the one object always allowed): past it the recording has a gap
 * and ends `failed`. The memory bound while storage is slow: a few chunks of any rung, 20 s of a 6 Mbit/s one.
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
const PUT_ATTEMPTS = 3;

/** The `record` flag from the stream's record in Redis (absent record or flag: recording on). */
export function recordFlagFromRedis(redis: Redis): (streamId: string) => Promise<boolean> {
  return async (streamId) => {
    const raw = await redis.get(streamKeys.record(streamId));
    return raw === null || (JSON.parse(raw) as { record?: unknown }).record !== false;
  };
}

function ladderBitrateBps(rendition: string): number {
  const rung = Object.values(LADDERS)
    .flat()
    .find((r) => r.name === rendition);
  return rung === undefined ? 0 : (rung.videoKbps + rung.audioKbps) * 1000;
}

/** One broadcast's recording across its renditions: the index entry and, when the last rendition ends, the multivariant. */
class Recording {
  readonly id: string;
  readonly startMs: number;
  readonly renditions = new Map<string, { chunks: ListedChunk[]; codecs: readonly string[] }>();
  open = 0;
  failed = false;

  constructor(
    private readonly options: RecorderOptions,
    readonly streamId: string,
    readonly broadcast: string,
    private readonly clock: () => number,
  ) {
    this.id = recordingId(streamId, broadcast);
    this.startMs = clock();
  }

  entry(status: RecordingEntry['status']): RecordingEntry {
    let bytes = 0;
    let durationS = 0;
    for (const r of this.renditions.values()) {
      bytes += r.chunks.reduce((sum, c) => sum + c.bytes, 0);
      durationS = Math.max(
        durationS,
        r.chunks.reduce((sum, c) => sum + c.durationS, 0),
      );
    }
    return {
      id: this.id,
      streamId: this.streamId,
      broadcast: this.broadcast,
      start: this.startMs,
      ...(status === 'recording' ? {} : { end: this.clock() }),
      durationS: Math.round(durationS * 1000) / 1000,
      bytes,
      renditions: [...this.renditions.keys()],
      status,
      ...(status === 'complete'
        ? { playbackPath: `/${recordingKeys.multivariant(this.streamId, this.broadcast)}` }
        : {}),
    };
  }

  /** Index entry write; a Redis failure costs the listing, never the recording's media. */
  async index(status: RecordingEntry['status']): Promise<void> {
    const retentionMs = this.options.retentionDays * 86_400_000;
    const byStream = recordingIndexKeys.byStream(this.streamId);
    try {
      await this.options.redis
        .multi()
        .set(recordingIndexKeys.entry(this.id), JSON.stringify(this.entry(status)), 'PX', retentionMs)
        .zadd(byStream, this.startMs, this.id)
        .zremrangebyscore(byStream, '-inf', `(${this.clock() - retentionMs}`)
        .pexpire(byStream, retentionMs)
        .exec();
    } catch (error) {
      this.options.logger.warn('recording index write failed', {
        recordingId: this.id,
        error: String(error),
      });
    }
  }
}

/** Records one rendition: its own splitter and chunker beside the packager's, writes in order, bounded. */
class RenditionRecorder {
  private splitter = new FragmentSplitter();
  private readonly chunker: RecordingChunker;
  private readonly chunks: ListedChunk[] = [];
  private codecs: readonly string[] = [];
  private writes: Promise<void> = Promise.resolve();
  private pending = 0;
  private broken = false;

  constructor(
    private readonly owner: RecordingSinks,
    private readonly recording: Recording,
    private readonly rendition: string,
    bitrateBps: number,
    private readonly enabled: Promise<boolean>,
  ) {
    this.chunker = new RecordingChunker(chunkTargetMs(bitrateBps));
    // Every write waits for the stream's record flag; switched off, they are dropped (and nothing is indexed).
    this.writes = enabled.then(() => undefined);
    recording.open += 1;
    recording.renditions.set(rendition, { chunks: this.chunks, codecs: this.codecs });
  }

  get broadcast(): string {
    return this.recording.broadcast;
  }

  write(chunk: Uint8Array): void {
    if (this.broken) return;
    try {
      for (const out of this.splitter.push(chunk)) {
        if (out.kind === 'init') {
          this.codecs = out.info.codecs;
          this.recording.renditions.set(this.rendition, { chunks: this.chunks, codecs: this.codecs });
        }
        this.store(this.chunker.push(out));
      }
    } catch (error) {
      // The packager reports the bad input; the recording just stops here and says so.
      this.fail('unreadable fMP4', error);
    }
  }

  restart(): void {
    this.splitter = new FragmentSplitter();
    this.broken = false;
    this.store(this.chunker.restart());
  }

  async end(): Promise<void> {
    this.store(this.chunker.end());
    await this.writes;
    const r = this.recording;
    if (!(await this.enabled)) {
      r.open -= 1;
      if (r.open === 0) this.owner.finished(r);
      return;
    }
    const { streamId, broadcast } = r;
    if (this.chunks.length > 0) {
      const playlist = new TextEncoder().encode(renderVodPlaylist(this.chunks));
      if (!(await this.put(recordingKeys.playlist(streamId, this.rendition, broadcast), playlist)))
        r.failed = true;
    }
    r.open -= 1;
    if (r.open > 0) return;
    this.owner.finished(r);
    const renditions = [...r.renditions.entries()].map(([rendition, v]) => ({ rendition, ...v }));
    if (renditions.every((v) => v.chunks.length === 0)) return;
    const master = new TextEncoder().encode(renderRecordingMultivariant(broadcast, renditions));
    if (!(await this.put(recordingKeys.multivariant(streamId, broadcast), master))) r.failed = true;
    await r.index(r.failed ? 'failed' : 'complete');
  }

  private store(objects: readonly RecordedObject[]): void {
    for (const o of objects) {
      if (o.kind === 'chunk' && this.chunks.length >= MAX_LISTED_CHUNKS) {
        this.fail('chunk limit');
        return;
      }
      if (this.pending > 0 && this.pending + o.bytes.byteLength > MAX_PENDING_BYTES) {
        this.fail('storage behind');
        return;
      }
      this.pending += o.bytes.byteLength;
      this.writes = this.writes.then(async () => {
        if (!(await this.enabled)) {
          this.pending -= o.bytes.byteLength;
          return;
        }
        const { streamId, broadcast } = this.recording;
        const key =
          o.kind === 'init'
            ? recordingKeys.init(streamId, this.rendition, broadcast, o.version)
            : recordingKeys.chunk(streamId, this.rendition, broadcast, o.index);
        const stored = await this.put(key, o.bytes);
        this.pending -= o.bytes.byteLength;
        if (!stored) return this.fail('write failed');
        if (o.kind !== 'chunk') return;
        const first = this.chunks.length === 0;
        this.chunks.push({
          index: o.index,
          durationS: o.durationS,
          initVersion: o.initVersion,
          discontinuity: o.discontinuity,
          bytes: o.bytes.byteLength,
        });
        // The entry is rewritten as chunks land (one SET per chunk, >= 6 s apart), so a listing shows progress.
        if (first || this.chunks.length % 10 === 0) await this.recording.index('recording');
      });
    }
  }

  private async put(key: string, bytes: Uint8Array): Promise<boolean> {
    for (let attempt = 1; attempt <= PUT_ATTEMPTS; attempt++) {
      try {
        await this.owner.options.storage.put(key, bytes, 'recording');
        return true;
      } catch (error) {
        if (attempt === PUT_ATTEMPTS) {
          this.owner.options.logger.warn('recording write failed', { key, error: String(error) });
          return false;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
    return false;
  }

  private fail(reason: string, error?: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.recording.failed = true;
    this.owner.options.logger.warn('recording gap', {
      recordingId: this.recording.id,
      rendition: this.rendition,
      reason,
      ...(error === undefined ? {} : { error: String(error) }),
    });
  }
}

/**
 * Wraps the packager's sink factory (decision D40): each rendition's fMP4 goes to the packager as before and to a
 * recorder, which keeps one recording per broadcast (connect to disconnect; transcoder restarts within it are
 * discontinuities of the same recording) and a new one when a reconnect brings a new broadcast.
 */
export class RecordingSinks implements RenditionSinkFactory {
  private readonly recordings = new Map<string, Recording>();
  private readonly clock: () => number;

  constructor(
    private readonly inner: RenditionSinkFactory,
    readonly options: RecorderOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  open(
    streamId: string,
    rendition: string,
    start?: ProducerStart,
    targets?: RenditionTargets,
  ): RenditionSink {
    const sink = this.inner.open(streamId, rendition, start, targets);
    const decided = this.options.records?.(streamId) ?? true;
    if (decided === false) return sink;
    // A failed look-up records: a recording too many is deleted with one call, one missed is gone.
    const enabled = Promise.resolve(decided).catch(() => true);
    let recorder = this.recorder(streamId, rendition, start?.broadcast, enabled);
    const wrapped: RenditionSink = {
      write: (chunk) => {
        sink.write(chunk);
        recorder.write(chunk);
      },
      restart: (next) => {
        sink.restart(next);
        if (next?.broadcast === undefined || next.broadcast === recorder.broadcast) return recorder.restart();
        // A reconnect: the old broadcast's recording ends, the new one starts.
        void recorder.end();
        recorder = this.recorder(streamId, rendition, next.broadcast, enabled);
      },
      end: async (options?: EndOptions) => {
        await Promise.all([sink.end(options), recorder.end()]);
      },
    };
    if (sink.storage !== undefined) wrapped.storage = () => sink.storage!();
    return wrapped;
  }

  storage(streamId: string) {
    return this.inner.storage?.(streamId) ?? [];
  }

  finished(recording: Recording): void {
    const key = `${recording.streamId}/${recording.broadcast}`;
    if (this.recordings.get(key) === recording) this.recordings.delete(key);
  }

  private recorder(
    streamId: string,
    rendition: string,
    broadcast: string | undefined,
    enabled: Promise<boolean>,
  ): RenditionRecorder {
    const id = broadcast ?? newBroadcastId(this.clock());
    const key = `${streamId}/${id}`;
    let recording = this.recordings.get(key);
    if (recording === undefined) {
      recording = new Recording(this.options, streamId, id, this.clock);
      this.recordings.set(key, recording);
    }
    const bitrate = (this.options.bitrateBps ?? ladderBitrateBps)(rendition);
    return new RenditionRecorder(this, recording, rendition, bitrate, enabled);
  }
}
