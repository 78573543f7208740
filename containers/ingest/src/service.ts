import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import type { Redis } from 'ioredis';
import { DEFAULT_LADDER, type LadderPreset } from '../../../core/ladder.js';
import type { RenditionSinkFactory } from '../../../core/media/rendition-sink.js';
import { channels, streamKeys, taskKeys } from '../../../core/streams/keys.js';
import { IngestCommand, SRT_LATENCY_MS, type StreamRecord } from '../../../core/streams/schema.js';
import type { IngestStatus, TaskReport } from '../../../core/streams/status.js';
import {
  type CommandRunner,
  type GpuSampler,
  type GpuUtilization,
  startGpuSampler,
} from './gpu-utilization.js';
import { Leases } from './lease.js';
import { RegistryFollower } from './registry.js';
import { type SrtConnection, SrtListener, type SrtStats } from './srt/server.js';
import { chooseEncodePath, detectGpu, type GpuMode, type GpuProbe } from './transcode/gpu.js';
import { type PipelineLogger, StreamPipeline } from './transcode/pipeline.js';

export type IngestLogger = PipelineLogger;

/** Per-stream figures the metrics emitter reads once per interval. */
export interface StreamMetrics {
  readonly streamId: string;
  readonly bitrateBps: number;
  readonly lossPercent: number;
  readonly rttMs: number;
  readonly speed: number | null;
}

export interface IngestMetricsSink {
  /** Called every metricsIntervalMs with the task's figures. */
  report(task: { activeStreams: number; capacity: number }, streams: readonly StreamMetrics[]): void;
  /** A publishing stream stopped unexpectedly. */
  streamDown(streamId: string, reason: string): void;
  /** One nvidia-smi sample (GPU path only, every gpuSampleIntervalMs). */
  gpuUtilization?(utilization: GpuUtilization): void;
}

export interface IngestConfig {
  readonly redis: Redis;
  readonly taskId: string;
  readonly sinks: RenditionSinkFactory;
  readonly srtPort: number;
  readonly srtHost?: string;
  /** 0 picks a free port; null disables the HTTP endpoint. */
  readonly healthPort?: number | null;
  readonly gpuMode?: GpuMode;
  /** Injected in tests; detected (nvidia-smi, /dev/nvidia0) otherwise. */
  readonly gpu?: GpuProbe;
  /** Used for records whose ladder is not a known preset. */
  readonly defaultLadder?: LadderPreset;
  readonly partTargetMs?: number;
  readonly segmentTargetMs?: number;
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
}

export interface IngestService {
  readonly srtPort: number;
  readonly healthPort: number | null;
  readonly taskId: string;
  /** Live status of a stream published here (what is written to mirror:status:{id}). */
  status(streamId: string): IngestStatus | undefined;
  /** For tests and diagnostics. */
  pipeline(streamId: string): StreamPipeline | undefined;
  /** Drain: stop accepting, close connections, end sinks (open segments finish), release leases. */
  stop(): Promise<void>;
}

interface Session {
  readonly streamId: string;
  conn: SrtConnection | null;
  pipeline: StreamPipeline;
  /** Data that arrived while the lease was being taken (bounded; beyond it, dropped). */
  pending: Buffer[] | null;
  pendingBytes: number;
  graceTimer: NodeJS.Timeout | null;
  connectedAt: number;
  lastBytesIn: number;
  lastStatsAt: number;
  lastLost: number;
  lastReceived: number;
  bitrateBps: number;
  lossPercent: number;
  srt: SrtStats | null;
  fatal: string | null;
}

/** What may queue while the lease is taken (normally a few ms of input). */
const MAX_PENDING_BEFORE_LEASE_BYTES = 8 * 1024 * 1024;

const silent: IngestLogger = { info() {}, warn() {}, error() {} };

export async function startIngestService(config: IngestConfig): Promise<IngestService> {
  const log = config.logger ?? silent;
  const redis = config.redis;
  const subscriber = redis.duplicate();
  subscriber.on('error', (error: Error) => log.warn('Redis subscriber error', { error: error.message }));
  const capacity = config.capacity ?? 16;
  const leaseTtlMs = config.leaseTtlMs ?? 5000;
  const statusIntervalMs = config.statusIntervalMs ?? 1000;
  const statusTtlMs = Math.max(5000, statusIntervalMs * 5);
  const reconnectGraceMs = config.reconnectGraceMs ?? 10_000;
  const gpu = config.gpu ?? detectGpu();
  const gpuMode = config.gpuMode ?? 'auto';
  const leases = new Leases(redis, config.taskId, leaseTtlMs);
  const sessions = new Map<string, Session>();
  let draining = false;

  const listener = new SrtListener({
    port: config.srtPort,
    host: config.srtHost ?? '0.0.0.0',
    latencyMs: config.srtLatencyMs ?? SRT_LATENCY_MS.low,
    maxConnections: capacity,
  });

  const registry = new RegistryFollower(
    redis,
    subscriber,
    {
      upsert(record: StreamRecord) {
        listener.setStream(record.id, {
          publishKey: record.publishKey,
          passphrase: record.passphrase,
          keyLength: record.keyLength,
          latencyMs: SRT_LATENCY_MS[record.latency],
        });
      },
      remove(streamId: string) {
        listener.deleteStream(streamId);
        const session = sessions.get(streamId);
        if (session?.conn) listener.close(session.conn.id, 'stream deleted');
      },
    },
    log,
  );

  function ladderOf(streamId: string): LadderPreset {
    return registry.get(streamId)?.ladder ?? config.defaultLadder ?? DEFAULT_LADDER;
  }

  function newSession(streamId: string, conn: SrtConnection): Session {
    const session: Session = {
      streamId,
      conn,
      pending: [],
      pendingBytes: 0,
      graceTimer: null,
      connectedAt: Date.now(),
      lastBytesIn: 0,
      lastStatsAt: Date.now(),
      lastLost: 0,
      lastReceived: 0,
      bitrateBps: 0,
      lossPercent: 0,
      srt: null,
      fatal: null,
      pipeline: new StreamPipeline({
        streamId,
        ladder: ladderOf(streamId),
        gpuMode,
        gpu,
        sinks: config.sinks,
        partTargetMs: config.partTargetMs ?? 100,
        segmentTargetMs: config.segmentTargetMs ?? 500,
        maxBufferBytes: config.maxBufferBytes,
        hangTimeoutMs: config.hangTimeoutMs,
        ffmpegPath: config.ffmpegPath,
        logger: log,
        onFatal: (reason) => {
          session.fatal = reason;
          config.metrics?.streamDown(streamId, reason);
          if (session.conn) listener.close(session.conn.id, reason);
          writeStatus(session).catch(() => {});
        },
      }),
    };
    return session;
  }

  listener.on('reject', (r) => {
    log.warn('SRT caller rejected', { code: r.code, reason: r.reason, streamId: r.streamId, peer: r.peer });
  });

  listener.on('connection', (conn) => {
    const existing = sessions.get(conn.streamId);
    if (existing?.conn) {
      // The native table lets one publisher per stream through; a second here means a race it settled late.
      listener.close(conn.id, 'already publishing on this task');
      return;
    }
    let session: Session;
    if (existing) {
      session = existing;
      if (session.graceTimer) clearTimeout(session.graceTimer);
      session.graceTimer = null;
      session.conn = conn;
      session.pending = [];
      session.pendingBytes = 0;
      session.fatal = null;
    } else {
      session = newSession(conn.streamId, conn);
      sessions.set(conn.streamId, session);
    }
    log.info('SRT publisher connected', {
      streamId: conn.streamId,
      peer: conn.peer,
      reconnect: Boolean(existing),
    });
    void admit(session, conn, Boolean(existing));
  });

  async function admit(session: Session, conn: SrtConnection, reconnect: boolean): Promise<void> {
    let lease: Awaited<ReturnType<Leases['acquire']>>;
    try {
      lease = await leases.acquire(session.streamId);
    } catch (error) {
      lease = { ok: false, holder: `unknown (Redis: ${String(error)})` };
    }
    if (session.conn !== conn) return;
    if (!lease.ok) {
      log.warn('SRT publisher refused: the stream is published on another task', {
        streamId: session.streamId,
        holder: lease.holder,
      });
      listener.close(conn.id, `lease held by ${lease.holder}`);
      return;
    }
    if (reconnect) await session.pipeline.reconnect();
    if (session.conn !== conn) return;
    const pending = session.pending ?? [];
    session.pending = null;
    for (const chunk of pending) session.pipeline.write(chunk);
  }

  listener.on('data', (conn, data) => {
    const session = sessions.get(conn.streamId);
    if (!session || session.conn?.id !== conn.id) return;
    if (!session.pending) {
      session.pipeline.write(data);
    } else if (session.pendingBytes + data.length <= MAX_PENDING_BEFORE_LEASE_BYTES) {
      session.pending.push(data);
      session.pendingBytes += data.length;
    }
  });

  listener.on('close', (conn, reason) => {
    const session = sessions.get(conn.streamId);
    if (!session || session.conn?.id !== conn.id) return;
    log.info('SRT publisher disconnected', { streamId: conn.streamId, reason });
    session.conn = null;
    session.pending = null;
    session.pipeline.endInput();
    if (!draining && !session.fatal) config.metrics?.streamDown(conn.streamId, reason);
    leases.release(conn.streamId).catch(() => {});
    if (draining) return;
    session.graceTimer = setTimeout(() => {
      void endSession(session);
    }, reconnectGraceMs);
  });

  async function endSession(session: Session): Promise<void> {
    if (session.conn) listener.close(session.conn.id, 'stream ended');
    if (sessions.get(session.streamId) === session) sessions.delete(session.streamId);
    if (session.graceTimer) clearTimeout(session.graceTimer);
    await session.pipeline.stop();
    await leases.release(session.streamId).catch(() => {});
    await redis.del(streamKeys.status(session.streamId)).catch(() => {});
  }

  function statusOf(session: Session): IngestStatus {
    const p = session.pipeline.status();
    const state: IngestStatus['state'] =
      p.state === 'error' || session.fatal ? 'error' : session.conn ? 'live' : 'idle';
    return {
      state,
      taskId: config.taskId,
      input: {
        codec: p.input?.video,
        audio: p.input?.audio ?? null,
        width: p.input?.width,
        height: p.input?.height,
        fps: p.input?.fps,
        bitrateKbps: Math.round(session.bitrateBps / 1000),
      },
      srt: session.srt
        ? {
            rttMs: session.srt.rttMs,
            lossPercent: session.lossPercent,
            retransmitted: session.srt.packetsRetransmitted,
            dropped: session.srt.packetsDropped,
            lost: session.srt.packetsLost,
            receiveRateMbps: session.srt.recvRateMbps,
            bufferMs: session.srt.bufferMs,
            bufferBytes: session.srt.bufferBytes,
            queueDroppedBytes: session.srt.queueDroppedBytes,
          }
        : undefined,
      renditions: [...p.renditions],
      transcode: {
        path: p.path,
        ladder: p.ladder,
        state: p.state,
        encodeFps: p.encodeFps,
        speed: p.speed,
        outTimeMs: p.outTimeMs,
        restarts: p.restarts,
        discontinuities: Math.max(0, p.generation - 1),
        bufferedBytes: p.bufferedBytes,
        droppedBytes: p.droppedBytes,
        note: p.note,
      },
      error: session.fatal ?? p.error ?? undefined,
      peer: session.conn?.peer,
      connectedAt: new Date(session.connectedAt).toISOString(),
      updatedAt: new Date().toISOString(),
    };
  }

  async function writeStatus(session: Session): Promise<void> {
    await redis.set(
      streamKeys.status(session.streamId),
      JSON.stringify(statusOf(session)),
      'PX',
      statusTtlMs,
    );
  }

  function sample(session: Session): void {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - session.lastStatsAt) / 1000);
    const p = session.pipeline.status();
    session.bitrateBps = ((p.bytesIn - session.lastBytesIn) * 8) / seconds;
    session.lastBytesIn = p.bytesIn;
    session.lastStatsAt = now;
    if (session.conn) {
      const stats = listener.stats(session.conn.id);
      if (stats) {
        const lost = stats.packetsLost - session.lastLost;
        const received = stats.packetsReceived - session.lastReceived;
        session.lossPercent = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
        session.lastLost = stats.packetsLost;
        session.lastReceived = stats.packetsReceived;
        session.srt = stats;
      }
    }
  }

  async function tick(): Promise<void> {
    for (const session of sessions.values()) {
      sample(session);
      if (session.conn && !session.pending && !(await leases.renew(session.streamId))) {
        log.warn('publisher lease lost; disconnecting', { streamId: session.streamId });
        listener.close(session.conn.id, 'lease lost');
        continue;
      }
      await writeStatus(session);
    }
    const active = [...sessions.values()].filter((s) => s.conn).length;
    config.onActiveStreams?.(active);
    const report: TaskReport = {
      taskId: config.taskId,
      capacity,
      streams: active,
      cpuPercent: Math.round(loadavg()[0]! * 100) / 100,
      gpu: gpu.available,
      address: config.address,
      draining,
      updatedAt: new Date().toISOString(),
    };
    await redis
      .multi()
      .set(taskKeys.report(config.taskId), JSON.stringify(report), 'PX', statusTtlMs)
      .zadd(taskKeys.index, Date.now(), config.taskId)
      .exec();
  }

  let ticking = false;
  const statusTimer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tick()
      .catch((error: unknown) => log.warn('status tick failed', { error: String(error) }))
      .finally(() => {
        ticking = false;
      });
  }, statusIntervalMs);

  const metricsTimer = setInterval(() => {
    const streams = [...sessions.values()].filter((s) => s.conn);
    config.metrics?.report(
      { activeStreams: streams.length, capacity },
      streams.map((s) => ({
        streamId: s.streamId,
        bitrateBps: s.bitrateBps,
        lossPercent: s.lossPercent,
        rttMs: s.srt?.rttMs ?? 0,
        speed: s.pipeline.status().speed,
      })),
    );
  }, config.metricsIntervalMs ?? 60_000);

  // Only where streams go to NVENC: a software task has no GPU to sample, and MIRROR_GPU=off ignores one.
  const gpuSampleIntervalMs = config.gpuSampleIntervalMs ?? 10_000;
  const encodePath = chooseEncodePath(gpuMode, gpu);
  const metrics = config.metrics;
  const gpuSampler: GpuSampler | null =
    metrics?.gpuUtilization && gpuSampleIntervalMs > 0 && encodePath.ok && encodePath.path === 'gpu'
      ? startGpuSampler({
          intervalMs: gpuSampleIntervalMs,
          run: config.runNvidiaSmi,
          logger: log,
          onSample: (utilization) => metrics.gpuUtilization?.(utilization),
        })
      : null;

  // Commands from the control API (disconnect a publisher).
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== channels.ingestCommands) return;
    let command: IngestCommand;
    try {
      command = IngestCommand.parse(JSON.parse(message));
    } catch {
      return;
    }
    const session = sessions.get(command.streamId);
    if (command.type === 'disconnect' && session?.conn) {
      log.info('disconnect command', { streamId: command.streamId, reason: command.reason });
      listener.close(session.conn.id, `disconnected: ${command.reason}`);
    }
  });

  await registry.start();
  await subscriber.subscribe(channels.ingestCommands);
  listener.listen();

  let health: Server | null = null;
  let healthPort: number | null = null;
  if (config.healthPort !== null) {
    health = createServer((req, res) => {
      if (req.url !== '/health' && req.url !== '/') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const streams = [...sessions.values()].filter((s) => s.conn).length;
      redis
        .ping()
        .then(() => true)
        .catch(() => false)
        .then((redisOk) => {
          const ok = redisOk && !draining;
          const body = {
            ok,
            redis: redisOk,
            draining,
            taskId: config.taskId,
            streams,
            capacity,
            gpu: gpu.available,
            registry: registry.size,
          };
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
    });
    await new Promise<void>((resolve) => health!.listen(config.healthPort ?? 0, resolve));
    healthPort = (health.address() as AddressInfo).port;
  }

  log.info('ingest service started', {
    taskId: config.taskId,
    srtPort: config.srtPort,
    healthPort,
    gpu: gpu.available,
    gpuMode,
    capacity,
    gpuSampleS: gpuSampler ? gpuSampleIntervalMs / 1000 : null,
  });

  let stopping: Promise<void> | null = null;
  return {
    srtPort: config.srtPort,
    healthPort,
    taskId: config.taskId,
    status(streamId) {
      const session = sessions.get(streamId);
      return session ? statusOf(session) : undefined;
    },
    pipeline(streamId) {
      return sessions.get(streamId)?.pipeline;
    },
    stop() {
      stopping ??= (async () => {
        draining = true;
        listener.setAccepting(false);
        clearInterval(statusTimer);
        clearInterval(metricsTimer);
        await gpuSampler?.stop();
        await listener.stop();
        await Promise.all([...sessions.values()].map((s) => endSession(s)));
        await redis.multi().del(taskKeys.report(config.taskId)).zrem(taskKeys.index, config.taskId).exec();
        await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
        subscriber.disconnect();
        log.info('ingest service stopped', { taskId: config.taskId });
      })();
      return stopping;
    },
  };
}
