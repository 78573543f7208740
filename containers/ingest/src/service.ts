import type { Redis } from 'ioredis';
import { logRedisOutages } from '../../../core/adapters/redis.js';
import { RedisBroadcastLog } from '../../../core/adapters/streams/broadcasts.js';
import { DEFAULT_LADDER, type LadderPreset } from '../../../core/ladder.js';
import { type Logger, silentLogger } from '../../../core/logger.js';
import type { RenditionSinkFactory } from '../../../core/media/rendition-sink.js';
import { channels } from '../../../core/streams/keys.js';
import { SRT_LATENCY_MS, type StreamRecord } from '../../../core/streams/schema.js';
import type { DataKeyProvider } from '../../../core/streams/secrets.js';
import type { IngestStatus } from '../../../core/streams/status.js';
import { type CommandRunner, type GpuSampler, startGpuSampler } from './gpu-utilization.js';
import { Leases } from './lease.js';
import { type IngestAdmission, RegistryFollower } from './registry.js';
import { isRtpConnection, RtpReceiver, type RtpReceiverOptions } from './rtp/receiver.js';
import { type CommandTarget, ingestCommandListener } from './service/commands.js';
import { type DrainOptions, type DrainSummary, readTaskReports, runDrain } from './service/drain.js';
import { startHealthServer } from './service/health.js';
import { InputStatsTable } from './service/input-stats.js';
import { LeaseKeeper } from './service/lease-keeper.js';
import type { PartLatencies } from './service/part-latency.js';
import { type IngestMetricsSink, Reporter } from './service/reporter.js';
import { type ConnectionCloser, Sessions } from './service/sessions.js';
import { startTicker } from './service/ticker.js';
import { SrtListener } from './srt/server.js';
import type { ThumbnailSinkFactory } from './thumbnails.js';
import {
  chooseEncodePath,
  detectGpu,
  type GpuMode,
  type GpuProbe,
  type PathDecision,
} from './transcode/gpu.js';
import { DEFAULT_MAX_BUFFER_BYTES, StreamPipeline } from './transcode/pipeline.js';

export type { DrainOptions, DrainSummary } from './service/drain.js';
export type { IngestMetricsSink, StreamMetrics } from './service/reporter.js';

/** The Logger port; the alias keeps the name importers know. */
export type IngestLogger = Logger;

export interface IngestConfig {
  readonly redis: Redis;
  /** Opens the streams' sealed SRT passphrases (decision D38); without it only unsealed (legacy) ones admit. */
  readonly secretKeys?: DataKeyProvider;
  readonly taskId: string;
  readonly sinks: RenditionSinkFactory;
  /** Each stream's thumbnail writer (decision D41); no thumbnails without it. */
  readonly thumbnails?: ThumbnailSinkFactory;
  readonly srtPort: number;
  readonly srtHost?: string;
  /** The RTP port (decision D45): MPEG-TS over RTP/SRTP for RTP streams; no RTP receiver without it. */
  readonly rtpPort?: number;
  /** RTP receiver tuning (silence timeout, reorder bounds, RTCP interval); defaults in rtp/receiver.ts. */
  readonly rtp?: Omit<RtpReceiverOptions, 'port' | 'host' | 'logger'>;
  /** 0 picks a free port; null disables the HTTP endpoint. */
  readonly healthPort?: number | null;
  readonly gpuMode?: GpuMode;
  /** Injected in tests; detected (nvidia-smi, /dev/nvidia0) otherwise. */
  readonly gpu?: GpuProbe;
  /** Used for records whose ladder is not a known preset. */
  readonly defaultLadder?: LadderPreset;
  /** Streams this task takes at once (NVENC sessions or CPU budget). */
  readonly capacity?: number;
  readonly maxBufferBytes?: number;
  readonly srtLatencyMs?: number;
  readonly leaseTtlMs?: number;
  /** After an encoder disconnects, its renditions stay open this long for a reconnect (then segments close). */
  readonly reconnectGraceMs?: number;
  readonly hangTimeoutMs?: number;
  readonly statusIntervalMs?: number;
  readonly metricsIntervalMs?: number;
  /** nvidia-smi sampling for the GPU metrics when the GPU path is in use (default 10 s); 0 turns it off. */
  readonly gpuSampleIntervalMs?: number;
  /** Injected in tests; execFile otherwise. */
  readonly runNvidiaSmi?: CommandRunner;
  readonly ffmpegPath?: string;
  readonly address?: string;
  readonly logger?: IngestLogger;
  readonly metrics?: IngestMetricsSink;
  /** Called after each status tick with the number of publishing streams (ECS scale-in protection). */
  readonly onActiveStreams?: (count: number) => unknown;
  /** The packager's part publish latencies (its onPublish feeds them): each stream's status `latencyMs`. */
  readonly partLatencies?: PartLatencies;
}

export interface IngestService {
  readonly srtPort: number;
  /** The RTP receiver (its counters for tests and diagnostics); null without rtpPort. */
  readonly rtp: RtpReceiver | null;
  readonly healthPort: number | null;
  readonly taskId: string;
  /** Live status of a stream published here (what is written to mirror:status:{id}). */
  status(streamId: string): IngestStatus | undefined;
  /** For tests and diagnostics. */
  pipeline(streamId: string): StreamPipeline | undefined;
  /**
   * SIGTERM: refuse new publishers at once (SRT and /health 503), keep the connected ones until another task has
   * room for them or the window runs out (service/drain.ts), then stop(). Resolves when everything has ended.
   */
  drain(options: DrainOptions): Promise<DrainSummary>;
  /** Stop now: refuse callers, close every connection, end sinks (open segments finish), release leases. */
  stop(): Promise<void>;
}

/**
 * Composes the ingest task: the SRT listener fed by the registry follower, the session table (admission), the
 * lease keeper and reporter on the status tick, the metrics and GPU samplers, the command channel and health.
 */
export async function startIngestService(config: IngestConfig): Promise<IngestService> {
  const log = config.logger ?? silentLogger;
  const redis = config.redis;
  const subscriber = redis.duplicate();
  logRedisOutages(subscriber, log, 'subscriber');
  const capacity = config.capacity ?? 16;
  const statusIntervalMs = config.statusIntervalMs ?? 1000;
  const gpu = config.gpu ?? detectGpu();
  const gpuMode = config.gpuMode ?? 'auto';
  const leases = new Leases(redis, config.taskId, config.leaseTtlMs ?? 5000);

  const listener = new SrtListener({
    port: config.srtPort,
    host: config.srtHost ?? '0.0.0.0',
    latencyMs: config.srtLatencyMs ?? SRT_LATENCY_MS.low,
    maxConnections: capacity,
    // Rejected handshakes are logged as one summary per interval (srt/reject-summary.ts), never one line each.
    logger: log,
  });
  const { rtp, connections } = rtpReceiver(config, listener, log);
  const reporter = startReporter(config, listener, rtp, {
    capacity,
    gpu: gpu.available,
    statusIntervalMs,
    log,
  });
  const sessions: Sessions = new Sessions({
    connections,
    leases,
    reconnectGraceMs: config.reconnectGraceMs ?? 10_000,
    log,
    onStreamDown: (streamId, reason) => config.metrics?.streamDown(streamId, reason),
    onFailed: (session) => {
      reporter.writeStatus(session).catch(() => {});
    },
    onEnded: (streamId) => {
      config.partLatencies?.forget(streamId);
      return reporter.clearStatus(streamId);
    },
    openPipeline: (streamId, onFatal, broadcast) =>
      new StreamPipeline({
        ...pipelineOptions(config, log, streamId, () => registry.get(streamId)?.visibility !== 'private'),
        streamId,
        ladder: registry.get(streamId)?.ladder ?? config.defaultLadder ?? DEFAULT_LADDER,
        // Each rendition's part target and the ladder's segment target (decision D28), read when the stream's
        // pipeline opens: a change applies from the next connection, never inside a timeline.
        latencyProfile: registry.get(streamId)?.latencyProfile,
        // Paused in the record (decision D32): a task taking the stream over keeps viewers on the slate.
        paused: registry.get(streamId)?.paused === true,
        gpuMode,
        gpu,
        onFatal,
        broadcast,
      }),
    broadcasts: new RedisBroadcastLog(redis, { taskId: config.taskId }),
  });
  const registry = followRegistry(redis, subscriber, { listener, rtp }, sessions, log, config.secretKeys);
  feedSessions(sessions, [listener, rtp]);

  const leaseKeeper = new LeaseKeeper(leases, connections, log);
  const statusTicker = startTicker(
    statusIntervalMs,
    () => statusTick(sessions, leaseKeeper, reporter, config.onActiveStreams),
    (error) => log.warn('status tick failed', { error: String(error) }),
  );
  const metricsTimer = setInterval(
    () => reporter.reportMetrics(sessions.publishing()),
    config.metricsIntervalMs ?? 60_000,
  );
  const gpuSampleIntervalMs = config.gpuSampleIntervalMs ?? 10_000;
  const gpuSampler = startGpuMetrics(config, chooseEncodePath(gpuMode, gpu), gpuSampleIntervalMs, log);
  // Commands from the control API (disconnect a publisher; pause, resume, restart its pipeline).
  subscriber.on('message', ingestCommandListener(commandTarget(sessions, reporter), log));

  await registry.start();
  await subscriber.subscribe(channels.ingestCommands);
  listener.listen();
  await rtp?.listen();
  // Up from a successful bind until stop(): health answers 503 without it (this task cannot take callers).
  let srtListening = true;
  const health =
    config.healthPort === null
      ? null
      : await startHealthServer({
          port: config.healthPort ?? 0,
          taskId: config.taskId,
          capacity,
          gpu: gpu.available,
          pingRedis: () => redis.ping(),
          activeStreams: () => sessions.publishing().length,
          draining: () => sessions.draining,
          srtListening: () => srtListening,
          registrySize: () => registry.size,
        });
  log.info('ingest service started', {
    taskId: config.taskId,
    srtPort: config.srtPort,
    rtpPort: config.rtpPort ?? null,
    healthPort: health?.port ?? null,
    gpu: gpu.available,
    gpuMode,
    capacity,
    gpuSampleS: gpuSampler ? gpuSampleIntervalMs / 1000 : null,
  });

  let stopping: Promise<void> | null = null;
  let draining: Promise<DrainSummary> | null = null;
  const service: IngestService = {
    srtPort: config.srtPort,
    rtp,
    healthPort: health?.port ?? null,
    taskId: config.taskId,
    status(streamId) {
      const session = sessions.get(streamId);
      return session ? reporter.status(session) : undefined;
    },
    pipeline(streamId) {
      return sessions.get(streamId)?.pipeline;
    },
    drain(options) {
      draining ??= (async () => {
        sessions.beginDrain();
        listener.setAccepting(false);
        rtp?.setAccepting(false);
        // Other tasks' drains must not count this one as room; the status tick keeps writing it so.
        await reporter.writeTaskReport(sessions.publishing().length, true);
        log.info('draining', { taskId: config.taskId, publishers: sessions.publishing().length, ...options });
        const summary = await runDrain(
          {
            taskId: config.taskId,
            sessions,
            connections,
            peers: () => readTaskReports(redis),
            log,
          },
          options,
        );
        log.info('drained', { taskId: config.taskId, ...summary });
        await service.stop();
        return summary;
      })();
      return draining;
    },
    stop() {
      // Refuse new callers first, then end what runs: segments finish, leases and reports go.
      stopping ??= (async () => {
        sessions.beginDrain();
        listener.setAccepting(false);
        rtp?.setAccepting(false);
        statusTicker.stop();
        clearInterval(metricsTimer);
        await gpuSampler?.stop();
        await listener.stop();
        await rtp?.stop();
        srtListening = false;
        // The task goes away, not the streams: their encoders reconnect to another task (no EXT-X-ENDLIST).
        await Promise.all([...sessions.values()].map((s) => sessions.end(s, { handover: true })));
        await reporter.removeTaskReport();
        await health?.close();
        subscriber.disconnect();
        log.info('ingest service stopped', { taskId: config.taskId });
      })();
      return stopping;
    },
  };
  return service;
}

/** An RTP source feeds the same session table as an SRT caller: same pipeline, lease, status and commands. */
function feedSessions(sessions: Sessions, sources: readonly (SrtListener | RtpReceiver | null)[]): void {
  for (const source of sources) {
    source?.on('connection', (conn) => sessions.connected(conn));
    source?.on('data', (conn, data) => sessions.received(conn, data));
    source?.on('close', (conn, reason) => sessions.closed(conn, reason));
  }
}

/** The RTP receiver (decision D45), if configured, and the one closer over both protocols' connection ids. */
function rtpReceiver(
  config: IngestConfig,
  listener: SrtListener,
  log: Logger,
): { rtp: RtpReceiver | null; connections: ConnectionCloser } {
  const shared = { host: config.srtHost, ffmpegPath: config.ffmpegPath, logger: log };
  const rtp =
    config.rtpPort === undefined ? null : new RtpReceiver({ ...config.rtp, ...shared, port: config.rtpPort });
  // One id space for both protocols (rtp/flow.ts RTP_CONNECTION_ID_BASE): a close goes to the one that owns the id.
  const connections: ConnectionCloser = {
    close: (id, reason) => (isRtpConnection(id) ? rtp?.close(id, reason) : listener.close(id, reason)),
  };
  return { rtp, connections };
}

/** What the command channel acts on: the sessions' connections and pipelines (decision D32). */
function commandTarget(sessions: Sessions, reporter: Pick<Reporter, 'writeStatus'>): CommandTarget {
  return {
    disconnect: (streamId, reason) => sessions.disconnect(streamId, reason),
    setPaused: (streamId, paused) => {
      const session = sessions.get(streamId);
      const done = session?.pipeline.setPaused(paused) ?? null;
      // The status says paused (or live) from this moment: written now, so the operator pages see it within the
      // second (D44), not at the next status tick.
      if (session) void reporter.writeStatus(session);
      return done;
    },
    restart: (streamId) => sessions.get(streamId)?.pipeline.restart() ?? null,
  };
}

/**
 * The status, task and metrics reporter, and the per-connection input analysis it reads (decision D42): the
 * listener's data also goes to a TS analyzer per connection, beside the session.
 */
function startReporter(
  config: IngestConfig,
  listener: SrtListener,
  rtp: RtpReceiver | null,
  o: { capacity: number; gpu: boolean; statusIntervalMs: number; log: Logger },
): Reporter {
  const inputStats = new InputStatsTable();
  for (const source of [listener, rtp]) {
    source?.on('connection', (conn) => inputStats.opened(conn.id));
    source?.on('data', (conn, data) => inputStats.data(conn.id, data));
    source?.on('close', (conn) => inputStats.closed(conn.id));
  }
  return new Reporter({
    redis: config.redis,
    taskId: config.taskId,
    capacity: o.capacity,
    gpu: o.gpu,
    address: config.address,
    statusTtlMs: Math.max(5000, o.statusIntervalMs * 5),
    srtStats: (id) => (isRtpConnection(id) ? null : listener.stats(id)),
    rtpStats: (id) => rtp?.stats(id) ?? null,
    storage: (id) => config.sinks.storage?.(id) ?? [],
    metrics: config.metrics,
    log: o.log,
    latencyMs: (id) => config.partLatencies?.latencyMs(id),
    inputStats: (id) => inputStats.snapshot(id),
    inputQueueMaxBytes: config.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES,
  });
}

/** The pipeline settings every stream of the task shares. */
function pipelineOptions(config: IngestConfig, log: Logger, streamId: string, isPublic: () => boolean) {
  return {
    sinks: config.sinks,
    thumbnails: config.thumbnails?.(streamId, isPublic),
    maxBufferBytes: config.maxBufferBytes,
    hangTimeoutMs: config.hangTimeoutMs,
    ffmpegPath: config.ffmpegPath,
    logger: log,
  };
}

/**
 * Mirrors the stream registry into the SRT listener's admission table and, for RTP streams, the RTP receiver's keys;
 * a deleted stream's publisher is closed.
 */
function followRegistry(
  redis: Redis,
  subscriber: Redis,
  { listener, rtp }: { listener: SrtListener; rtp: RtpReceiver | null },
  sessions: Sessions,
  log: Logger,
  keys: DataKeyProvider | undefined,
): RegistryFollower {
  return new RegistryFollower(
    redis,
    subscriber,
    {
      upsert(record: StreamRecord, admission: IngestAdmission) {
        // The record's pause flag too (a command missed in a subscriber reconnect): setPaused is idempotent.
        sessions
          .get(record.id)
          ?.pipeline.setPaused(record.paused === true)
          .catch(() => {});
        listener.setStream(record.id, {
          publishKeyHash: admission.publishKeyHash,
          passphrase: admission.passphrase,
          keyLength: record.keyLength,
          latencyMs: SRT_LATENCY_MS[record.latency],
        });
        // An RTP stream with neither an SRTP key nor a plain-RTP allow-list admits nobody over RTP.
        const rtpAdmits = admission.srtpKey !== null || (record.rtp?.plainSources?.length ?? 0) > 0;
        if (record.protocol === 'rtp' && rtpAdmits) {
          const { plainSources, payload } = record.rtp ?? {};
          rtp?.setStream(record.id, { srtpKey: admission.srtpKey, plainSources, payload });
        } else {
          rtp?.deleteStream(record.id);
        }
      },
      remove(streamId: string) {
        listener.deleteStream(streamId);
        rtp?.deleteStream(streamId);
        sessions.disconnect(streamId, 'stream deleted');
      },
    },
    log,
    keys,
  );
}

/**
 * Once per status interval: each session's traffic sample, lease renewal and status (a session whose lease was
 * lost is disconnected and writes none), then the task report.
 */
async function statusTick(
  sessions: Sessions,
  leaseKeeper: LeaseKeeper,
  reporter: Reporter,
  onActiveStreams: IngestConfig['onActiveStreams'],
): Promise<void> {
  for (const session of sessions.values()) {
    reporter.sample(session);
    if (await leaseKeeper.keep(session)) await reporter.writeStatus(session);
  }
  const active = sessions.publishing().length;
  onActiveStreams?.(active);
  await reporter.writeTaskReport(active, sessions.draining);
}

/** nvidia-smi sampling only where streams go to NVENC: a software task has no GPU to sample, MIRROR_GPU=off ignores one. */
function startGpuMetrics(
  config: IngestConfig,
  encodePath: PathDecision,
  intervalMs: number,
  log: Logger,
): GpuSampler | null {
  const metrics = config.metrics;
  if (!metrics?.gpuUtilization || intervalMs <= 0 || !encodePath.ok || encodePath.path !== 'gpu') return null;
  return startGpuSampler({
    intervalMs,
    run: config.runNvidiaSmi,
    logger: log,
    onSample: (utilization) => metrics.gpuUtilization?.(utilization),
  });
}
