import { loadavg } from 'node:os';
import type { Redis } from 'ioredis';
import { type OperatorEventPublisher, redisEventPublisher } from '../../../../core/adapters/events.js';
import { alarmTransition } from '../../../../core/events/operator-events.js';
import { type Logger, silentLogger } from '../../../../core/logger.js';
import type { AvStatsSnapshot } from '../../../../core/media/av-stats.js';
import type { RenditionStorageReport, StorageState } from '../../../../core/media/rendition-sink.js';
import { OutageNotice } from '../../../../core/outage.js';
import { streamKeys, taskKeys } from '../../../../core/streams/keys.js';
import type { IngestStatus, TaskReport } from '../../../../core/streams/status.js';
import type { GpuUtilization } from '../gpu-utilization.js';
import { isRtpConnection, type RtpFlowStats } from '../rtp/flow.js';
import type { SrtConnection, SrtStats } from '../srt/server.js';
import type { PipelineStatus } from '../transcode/pipeline.js';
import type { Session, SessionPipeline } from './sessions.js';

/** Per-stream figures the metrics emitter reads once per interval. */
export interface StreamMetrics {
  readonly streamId: string;
  readonly bitrateBps: number;
  readonly lossPercent: number;
  readonly rttMs: number;
  readonly speed: number | null;
  /** The input's A/V, GOP and timing figures (decision D42); absent before the first PES. */
  readonly input?: InputStatsReport;
}

/** What `input.stats` in the status carries: the analyzer's figures and the ingest queue's occupancy. */
export type InputStatsReport = AvStatsSnapshot & {
  readonly queueBytes: number;
  readonly queuePercent?: number;
};

export interface IngestMetricsSink {
  /** Called every metricsIntervalMs with the task's figures. */
  report(task: { activeStreams: number; capacity: number }, streams: readonly StreamMetrics[]): void;
  /** A publishing stream stopped unexpectedly. */
  streamDown(streamId: string, reason: string): void;
  /** One nvidia-smi sample (GPU path only, every gpuSampleIntervalMs). */
  gpuUtilization?(utilization: GpuUtilization): void;
}

/** A stream's input rates over the last sample interval, and the counters the next interval starts from. */
export interface Traffic {
  readonly atMs: number;
  readonly bytesIn: number;
  readonly packetsLost: number;
  readonly packetsReceived: number;
  readonly bitrateBps: number;
  /** Lost over (received + lost) in the interval, percent. */
  readonly lossPercent: number;
  readonly srt: SrtStats | null;
}

export function initialTraffic(atMs: number): Traffic {
  return { atMs, bytesIn: 0, packetsLost: 0, packetsReceived: 0, bitrateBps: 0, lossPercent: 0, srt: null };
}

/**
 * Pure: the next sample from the pipeline's byte count and the connection's SRT counters (null when there is no
 * connection to ask: bitrate moves on, loss and SRT figures stay as they were).
 */
export function sampleTraffic(
  prev: Traffic,
  bytesIn: number,
  stats: SrtStats | null,
  nowMs: number,
): Traffic {
  const seconds = Math.max(0.001, (nowMs - prev.atMs) / 1000);
  const next = { ...prev, atMs: nowMs, bytesIn, bitrateBps: ((bytesIn - prev.bytesIn) * 8) / seconds };
  if (!stats) return next;
  const lost = stats.packetsLost - prev.packetsLost;
  const received = stats.packetsReceived - prev.packetsReceived;
  return {
    ...next,
    packetsLost: stats.packetsLost,
    packetsReceived: stats.packetsReceived,
    lossPercent: received + lost > 0 ? (100 * lost) / (received + lost) : 0,
    srt: stats,
  };
}

/** What the status of one stream is made of. */
export interface StreamSnapshot {
  readonly taskId: string;
  readonly conn: SrtConnection | null;
  readonly fatal: string | null;
  readonly connectedAt: number;
  readonly pipeline: PipelineStatus;
  readonly traffic: Traffic;
  readonly now: Date;
  /** The input's A/V, GOP and timing figures (decision D42). */
  readonly inputStats?: InputStatsReport;
  /** Each rendition's storage health (decision D21); absent where the sinks do not report it. */
  readonly storage?: readonly RenditionStorageReport[];
  /** The stream's latest part publish latency (service/part-latency.ts); absent when no part was published lately. */
  readonly latencyMs?: number;
  /** An RTP publisher's reception figures (decision D45). */
  readonly rtp?: RtpFlowStats;
}

const STORAGE_SEVERITY: Record<StorageState, number> = { ok: 0, degraded: 1, 'init-failed': 2 };

/** Pure: the stream's storage state is its worst rendition's, so `live` never hides a rendition that cannot publish. */
export function storageStatus(reports: readonly RenditionStorageReport[]): IngestStatus['storage'] {
  const state = reports.reduce<StorageState>(
    (worst, r) => (STORAGE_SEVERITY[r.state] > STORAGE_SEVERITY[worst] ? r.state : worst),
    'ok',
  );
  return { state, renditions: reports.map((r) => ({ ...r })) };
}

/** Pure: the JSON written to mirror:status:{id} (and answered by IngestService.status). */
export function buildStreamStatus(s: StreamSnapshot): IngestStatus {
  const p = s.pipeline;
  const srt = s.traffic.srt;
  const connected: IngestStatus['state'] = p.paused ? 'paused' : 'live';
  const state: IngestStatus['state'] = p.state === 'error' || s.fatal ? 'error' : s.conn ? connected : 'idle';
  return {
    state,
    taskId: s.taskId,
    ...(p.broadcast === undefined ? {} : { broadcast: p.broadcast }),
    input: {
      codec: p.input?.video,
      audio: p.input?.audio ?? null,
      width: p.input?.width,
      height: p.input?.height,
      fps: p.input?.fps,
      bitrateKbps: Math.round(s.traffic.bitrateBps / 1000),
      ...(s.inputStats === undefined ? {} : { stats: s.inputStats }),
    },
    srt: srt
      ? {
          rttMs: srt.rttMs,
          lossPercent: s.traffic.lossPercent,
          retransmitted: srt.packetsRetransmitted,
          dropped: srt.packetsDropped,
          lost: srt.packetsLost,
          receiveRateMbps: srt.recvRateMbps,
          bufferMs: srt.bufferMs,
          bufferBytes: srt.bufferBytes,
          queueDroppedBytes: srt.queueDroppedBytes,
        }
      : undefined,
    ...(s.conn ? { protocol: isRtpConnection(s.conn.id) ? 'rtp' : 'srt' } : {}),
    ...(s.rtp === undefined ? {} : { rtp: { ...s.rtp } }),
    renditions: [...p.renditions],
    ...(p.thumbnailUrl === undefined ? {} : { thumbnailUrl: p.thumbnailUrl }),
    ...(s.storage === undefined || s.storage.length === 0 ? {} : { storage: storageStatus(s.storage) }),
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
    ...(s.latencyMs === undefined ? {} : { latencyMs: Math.round(s.latencyMs) }),
    error: s.fatal ?? p.error ?? undefined,
    peer: s.conn?.peer,
    connectedAt: new Date(s.connectedAt).toISOString(),
    updatedAt: s.now.toISOString(),
  };
}

/** Pure: the capacity and load report at mirror:task:{id}. */
export function buildTaskReport(t: {
  readonly taskId: string;
  readonly capacity: number;
  readonly streams: number;
  /** One-minute load average. */
  readonly load: number;
  readonly gpu: boolean;
  readonly address?: string;
  readonly draining: boolean;
  readonly now: Date;
}): TaskReport {
  return {
    taskId: t.taskId,
    capacity: t.capacity,
    streams: t.streams,
    cpuPercent: Math.round(t.load * 100) / 100,
    gpu: t.gpu,
    address: t.address,
    draining: t.draining,
    updatedAt: t.now.toISOString(),
  };
}

export interface ReporterOptions {
  readonly redis: Redis;
  readonly taskId: string;
  readonly capacity: number;
  readonly gpu: boolean;
  readonly address?: string;
  /** How long a written status or task report lives without a refresh. */
  readonly statusTtlMs: number;
  /** A connection's SRT statistics (the SrtListener's). */
  readonly srtStats: (connectionId: number) => SrtStats | null;
  readonly metrics?: IngestMetricsSink;
  /** A stream's renditions' storage health (the packager's), shown in its status (decision D21). */
  readonly storage?: (streamId: string) => readonly RenditionStorageReport[];
  /** Where a failing status or task-report write is told, once per outage. */
  readonly log?: Logger;
  /** A stream's latest part publish latency, ms (the status's latencyMs). */
  readonly latencyMs?: (streamId: string) => number | undefined;
  /** A connection's input statistics (the InputStatsTable's, decision D42). */
  readonly inputStats?: (connectionId: number) => AvStatsSnapshot | undefined;
  /** The bound of a stream's input queue, bytes: the occupancy percent's denominator. */
  readonly inputQueueMaxBytes?: number;
  /** Where each written status (and alarm transition) is told to the operator pages (D44); `redis` by default. */
  readonly events?: OperatorEventPublisher;
  /** An RTP connection's reception figures (the RtpReceiver's, decision D45). */
  readonly rtpStats?: (connectionId: number) => RtpFlowStats | null;
}

type AnySession = Session<SessionPipeline>;

/**
 * Samples each stream's traffic and writes the status per stream, the task report and the metrics. The writes
 * never throw: while Redis is unreachable the status is stale for operators (it expires after statusTtlMs), which
 * is no reason to stop the tick that renews leases; one warning per outage says so, one line says it is over.
 */
export class Reporter {
  /** Kept per session object, so a reconnect continues the same counters. */
  private readonly traffic = new WeakMap<AnySession, Traffic>();
  private readonly outage: OutageNotice;
  private readonly events: OperatorEventPublisher;
  /** Each reported stream's last state, for alarm transitions; one entry per stream of this task, dropped at its end. */
  private readonly lastReported = new Map<string, IngestStatus>();

  constructor(private readonly options: ReporterOptions) {
    this.outage = new OutageNotice(options.log ?? silentLogger, 'status and task report writes');
    this.events = options.events ?? redisEventPublisher(options.redis, options.log);
  }

  sample(session: AnySession): void {
    const stats = session.conn ? this.options.srtStats(session.conn.id) : null;
    const next = sampleTraffic(this.trafficOf(session), session.pipeline.status().bytesIn, stats, Date.now());
    this.traffic.set(session, next);
  }

  status(session: AnySession): IngestStatus {
    return buildStreamStatus({
      taskId: this.options.taskId,
      conn: session.conn,
      fatal: session.fatal,
      connectedAt: session.connectedAt,
      pipeline: session.pipeline.status(),
      traffic: this.trafficOf(session),
      now: new Date(),
      storage: this.options.storage?.(session.streamId),
      latencyMs: this.options.latencyMs?.(session.streamId),
      inputStats: this.inputStatsOf(session),
      rtp: (session.conn && this.options.rtpStats?.(session.conn.id)) || undefined,
    });
  }

  async writeStatus(session: AnySession): Promise<void> {
    const status = this.status(session);
    await this.quietly(() =>
      this.options.redis.set(
        streamKeys.status(session.streamId),
        JSON.stringify(status),
        'PX',
        this.options.statusTtlMs,
      ),
    );
    this.tellOperators(session.streamId, status);
  }

  async clearStatus(streamId: string): Promise<void> {
    await this.options.redis.del(streamKeys.status(streamId));
    this.lastReported.delete(streamId);
    this.events({ type: 'status', streamId, status: { state: 'idle' } });
  }

  /** The operator pages' live update (D44): the status as written, and an alarm when it crossed into or out of trouble. */
  private tellOperators(streamId: string, status: IngestStatus): void {
    const alarm = alarmTransition(this.lastReported.get(streamId), status);
    this.lastReported.set(streamId, status);
    this.events({ type: 'status', streamId, status });
    if (alarm) this.events({ type: 'alarm', streamId, ...alarm });
  }

  async writeTaskReport(streams: number, draining: boolean): Promise<void> {
    const report = buildTaskReport({
      taskId: this.options.taskId,
      capacity: this.options.capacity,
      streams,
      load: loadavg()[0]!,
      gpu: this.options.gpu,
      address: this.options.address,
      draining,
      now: new Date(),
    });
    await this.quietly(() =>
      this.options.redis
        .multi()
        .set(taskKeys.report(this.options.taskId), JSON.stringify(report), 'PX', this.options.statusTtlMs)
        .zadd(taskKeys.index, Date.now(), this.options.taskId)
        .exec(),
    );
  }

  /** Best effort (a drain during an outage must still finish): the report expires after statusTtlMs anyway. */
  async removeTaskReport(): Promise<void> {
    await this.quietly(() =>
      this.options.redis
        .multi()
        .del(taskKeys.report(this.options.taskId))
        .zrem(taskKeys.index, this.options.taskId)
        .exec(),
    );
  }

  /** The task's and each publishing stream's figures to the metrics sink. */
  reportMetrics(publishing: readonly AnySession[]): void {
    this.options.metrics?.report(
      { activeStreams: publishing.length, capacity: this.options.capacity },
      publishing.map((s) => {
        const traffic = this.trafficOf(s);
        // An RTP publisher's loss is RFC 3550's fraction lost of the last report interval (it has no SRT counters).
        const rtp = s.conn ? this.options.rtpStats?.(s.conn.id) : null;
        return {
          streamId: s.streamId,
          bitrateBps: traffic.bitrateBps,
          lossPercent: rtp ? 100 * rtp.fractionLost : traffic.lossPercent,
          rttMs: traffic.srt?.rttMs ?? 0,
          speed: s.pipeline.status().speed,
          input: this.inputStatsOf(s),
        };
      }),
    );
  }

  private async quietly(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.outage.failed(error);
      return;
    }
    this.outage.succeeded();
  }

  private inputStatsOf(session: AnySession): InputStatsReport | undefined {
    const stats = session.conn ? this.options.inputStats?.(session.conn.id) : undefined;
    if (!stats) return undefined;
    const queueBytes = session.pipeline.status().bufferedBytes;
    const max = this.options.inputQueueMaxBytes;
    return {
      ...stats,
      queueBytes,
      ...(max ? { queuePercent: Math.round((1000 * queueBytes) / max) / 10 } : {}),
    };
  }

  private trafficOf(session: AnySession): Traffic {
    return this.traffic.get(session) ?? initialTraffic(session.connectedAt);
  }
}
