import type { Redis } from 'ioredis';
import { FragmentSplitter } from '../../../../core/cmaf/index.js';
import { newBroadcastId, recordingId, recordingKeys } from '../../../../core/contracts/names.js';
import { OPERATOR_EVENTS_CHANNEL, recordingEvent } from '../../../../core/events/operator-events.js';
import { LADDERS } from '../../../../core/ladder.js';
import type { RenditionTargets } from '../../../../core/latency-profiles.js';
import type { Logger } from '../../../../core/logger.js';
import {
  type ProducerStart,
  type RenditionSink,
  type RenditionSinkFactory,
  teeSink,
} from '../../../../core/media/rendition-sink.js';
import {
  chunkTargetMs,
  type RecordedObject,
  RecordingChunker,
} from '../../../../core/recordings/chunking.js';
import {
  RECORDING_ALIVE_TTL_FACTOR,
  RECORDING_HEARTBEAT_MS,
  RecordingEntry,
  recordingIndexKeys,
} from '../../../../core/recordings/entry.js';
import {
  type ListedChunk,
  MAX_LISTED_CHUNKS,
  renderRecordingMultivariant,
  renderVodPlaylist,
} from '../../../../core/recordings/playlist.js';
import { parseVodPlaylist, type ResumePoint, resumePoint } from '../../../../core/recordings/resume.js';
import type { MediaStorage } from '../../../../core/storage/index.js';
import { streamKeys } from '../../../../core/streams/keys.js';
import { retried } from '../retried.js';

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
  /** How often the alive key is renewed (RECORDING_HEARTBEAT_MS); tests shorten it. */
  readonly heartbeatMs?: number;
}

/**
 * Bytes waiting for storage per rendition (beyond the one object always allowed): past it the recording has a gap
 * and ends `failed`. The memory bound while storage is slow: a few chunks of any rung, 20 s of a 6 Mbit/s one.
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
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
  /** The first recorded media's time: an earlier recorder's, when this one continues its recording. */
  startMs: number;
  readonly renditions = new Map<string, { chunks: ListedChunk[]; codecs: readonly string[] }>();
  /** Per rendition: chunks and init versions stored so far (the index's `objects`). */
  readonly stored = new Map<string, { chunks: number; inits: number }>();
  open = 0;
  failed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** What earlier recorders of this broadcast stored, counted in this one's entry (their chunks are not listed here). */
  private prior = { bytes: 0, durationS: 0 };
  private earlierEntry: Promise<RecordingEntry | undefined> | undefined;

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
      durationS: Math.round((this.prior.durationS + durationS) * 1000) / 1000,
      bytes: this.prior.bytes + bytes,
      renditions: [...this.renditions.keys()],
      status,
      ...(status === 'complete'
        ? { playbackPath: `/${recordingKeys.multivariant(this.streamId, this.broadcast)}` }
        : {}),
      updated: this.clock(),
      objects: Object.fromEntries(this.stored),
    };
  }

  /**
   * The entry an earlier recorder of this broadcast left (a takeover that kept the broadcast id), read once before
   * this one writes anything: its start, sizes and object counts carry over, so the entry goes on counting every
   * stored object (a delete enumerates them from it) and the by-stream score stays the broadcast's start.
   */
  earlier(): Promise<RecordingEntry | undefined> {
    this.earlierEntry ??= this.options.redis.get(recordingIndexKeys.entry(this.id)).then((raw) => {
      if (raw === null) return undefined;
      const entry = RecordingEntry.parse(JSON.parse(raw));
      this.startMs = entry.start;
      this.prior = { bytes: entry.bytes, durationS: entry.durationS };
      for (const [rendition, counts] of Object.entries(entry.objects ?? {}))
        if (!this.stored.has(rendition)) this.stored.set(rendition, { ...counts });
      return entry;
    });
    // A failed read is tried again by the next caller, not remembered.
    this.earlierEntry.catch(() => {
      this.earlierEntry = undefined;
    });
    return this.earlierEntry;
  }

  /**
   * Keeps the alive key while the broadcast is recorded: a reader that finds an entry in `recording` without it
   * knows its recorder died without ending it (D40, amended). One SET per recording per heartbeat.
   */
  private keepAlive(): void {
    if (this.heartbeat !== undefined) return;
    const every = this.options.heartbeatMs ?? RECORDING_HEARTBEAT_MS;
    const renew = () =>
      this.options.redis
        .set(recordingIndexKeys.alive(this.id), '1', 'PX', every * RECORDING_ALIVE_TTL_FACTOR)
        .catch(() => undefined);
    void renew();
    this.heartbeat = setInterval(() => void renew(), every);
    this.heartbeat.unref();
  }

  /** Stops the heartbeat; the final entry (complete or failed) no longer needs the alive key. */
  stopKeepAlive(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    void this.options.redis.del(recordingIndexKeys.alive(this.id)).catch(() => undefined);
  }

  /** Index entry write; a Redis failure costs the listing, never the recording's media. */
  async index(status: RecordingEntry['status']): Promise<void> {
    const retentionMs = this.options.retentionDays * 86_400_000;
    const byStream = recordingIndexKeys.byStream(this.streamId);
    if (status === 'recording') this.keepAlive();
    try {
      await this.options.redis
        .multi()
        .set(recordingIndexKeys.entry(this.id), JSON.stringify(this.entry(status)), 'PX', retentionMs)
        .zadd(byStream, this.startMs, this.id)
        .zremrangebyscore(byStream, '-inf', `(${this.clock() - retentionMs}`)
        .pexpire(byStream, retentionMs)
        // The operator pages' live update (D44), in the same round trip as the entry it announces.
        .publish(OPERATOR_EVENTS_CHANNEL, recordingEvent(this.streamId, this.id, status))
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
  /** Where this run's names start and what the stored playlist listed before it; known before any write. */
  private from: ResumePoint | undefined;

  constructor(
    private readonly owner: RecordingSinks,
    private readonly recording: Recording,
    private readonly rendition: string,
    bitrateBps: number,
    private readonly enabled: Promise<boolean>,
  ) {
    this.chunker = new RecordingChunker(chunkTargetMs(bitrateBps));
    // Every write waits for the stream's record flag (switched off, they are dropped and nothing is indexed), then
    // for what is stored of this broadcast already, so no name an earlier recorder wrote is written again.
    this.writes = enabled.then((on) => (on ? this.resume() : undefined));
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

  /**
   * Reads the broadcast's stored playlist for this rendition and its index entry (decision D40, amended): this
   * run's chunks and inits are numbered past both, and its playlist lists the earlier chunks first. Unreadable
   * after retries, this rendition records nothing rather than risk writing over stored names.
   */
  private async resume(): Promise<void> {
    const { streamId, broadcast } = this.recording;
    try {
      const [entry, stored] = await Promise.all([
        retried(() => this.recording.earlier()),
        retried(() =>
          this.owner.options.storage.get(recordingKeys.playlist(streamId, this.rendition, broadcast)),
        ),
      ]);
      const listed = stored === undefined ? [] : (parseVodPlaylist(new TextDecoder().decode(stored)) ?? []);
      this.from = resumePoint(listed, entry, this.rendition);
    } catch (error) {
      this.fail('stored recording unreadable', error);
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
      const listed = [...(this.from?.listed ?? []), ...this.chunks];
      const playlist = new TextEncoder().encode(renderVodPlaylist(listed));
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
    r.stopKeepAlive();
  }

  private store(objects: readonly RecordedObject[]): void {
    for (const o of objects) {
      if (o.kind === 'chunk' && this.chunks.length + (this.from?.listed.length ?? 0) >= MAX_LISTED_CHUNKS) {
        this.fail('chunk limit');
        return;
      }
      if (this.pending > 0 && this.pending + o.bytes.byteLength > MAX_PENDING_BYTES) {
        this.fail('storage behind');
        return;
      }
      this.pending += o.bytes.byteLength;
      this.writes = this.writes.then(async () => {
        const from = this.from;
        if (!(await this.enabled) || from === undefined) {
          this.pending -= o.bytes.byteLength;
          return;
        }
        const { streamId, broadcast } = this.recording;
        // The chunker numbers this run from 0 and 1; stored names continue after the earlier recorders'.
        const index = from.chunkOffset + (o.kind === 'chunk' ? o.index : 0);
        const version = from.initOffset + (o.kind === 'init' ? o.version : o.initVersion);
        const key =
          o.kind === 'init'
            ? recordingKeys.init(streamId, this.rendition, broadcast, version)
            : recordingKeys.chunk(streamId, this.rendition, broadcast, index);
        const stored = await this.put(key, o.bytes);
        this.pending -= o.bytes.byteLength;
        if (!stored) return this.fail('write failed');
        const counts = this.recording.stored.get(this.rendition) ?? { chunks: 0, inits: 0 };
        if (o.kind === 'init') counts.inits = Math.max(counts.inits, version);
        else counts.chunks = Math.max(counts.chunks, index + 1);
        this.recording.stored.set(this.rendition, counts);
        if (o.kind !== 'chunk') return;
        this.chunks.push({
          index,
          durationS: o.durationS,
          initVersion: version,
          // The earlier recorder's last chunk and this run's first come from different producer runs.
          discontinuity: o.discontinuity || (o.index === 0 && from.listed.length > 0),
          bytes: o.bytes.byteLength,
        });
        // The entry is rewritten as each chunk lands (chunks are >= 6 s apart per rendition), so a listing shows
        // progress and, should this process die, the entry counts every object a delete must remove.
        await this.recording.index('recording');
      });
    }
  }

  private async put(key: string, bytes: Uint8Array): Promise<boolean> {
    try {
      await retried(() => this.owner.options.storage.put(key, bytes, 'recording'));
      return true;
    } catch (error) {
      this.owner.options.logger.warn('recording write failed', { key, error: String(error) });
      return false;
    }
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
    return teeSink(sink, {
      write: (chunk) => recorder.write(chunk),
      restart: (next) => {
        if (next?.broadcast === undefined || next.broadcast === recorder.broadcast) return recorder.restart();
        // A reconnect: the old broadcast's recording ends, the new one starts.
        void recorder.end();
        recorder = this.recorder(streamId, rendition, next.broadcast, enabled);
      },
      end: () => recorder.end(),
    });
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
