import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RTP_CONNECTION_ID_BASE } from '../../containers/ingest/src/rtp/flow.js';
import {
  buildStreamStatus,
  buildTaskReport,
  type IngestMetricsSink,
  initialTraffic,
  Reporter,
  type StreamSnapshot,
  sampleTraffic,
  type Traffic,
} from '../../containers/ingest/src/service/reporter.js';
import type { Session, SessionPipeline } from '../../containers/ingest/src/service/sessions.js';
import type { SrtStats } from '../../containers/ingest/src/srt/server.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';
import { streamKeys, taskKeys } from '../../core/streams/keys.js';
import { IngestStatus, TaskReport } from '../../core/streams/status.js';
import { reportedSession } from '../support/ingest-session.js';
import { useRedisServer } from '../support/redis-hooks.js';

function srtStats(overrides: Partial<SrtStats> = {}): SrtStats {
  return {
    rttMs: 12.5,
    recvRateMbps: 4.2,
    packetsReceived: 0,
    bytesReceived: 0,
    packetsLost: 0,
    packetsRetransmitted: 3,
    packetsDropped: 1,
    packetsBelated: 0,
    bufferBytes: 64_000,
    bufferMs: 120,
    bufferAvailableBytes: 1_000_000,
    queueDroppedBytes: 0,
    queueDroppedChunks: 0,
    queuePendingBytes: 0,
    ...overrides,
  };
}

function pipelineStatus(overrides: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    state: 'running',
    broadcast: 'mh3k2x9a7q4f',
    path: 'software',
    ladder: 'tile',
    renditions: ['360p'],
    input: { video: 'hevc', audio: 'aac', width: 1920, height: 1080, fps: 30 },
    bytesIn: 0,
    droppedBytes: 7,
    droppedChunks: 1,
    bufferedBytes: 1316,
    restarts: 2,
    generation: 4,
    encodeFps: 29.9,
    speed: 1.01,
    outTimeMs: 5000,
    error: null,
    note: null,
    ...overrides,
  };
}

describe('traffic sampling (bitrate, SRT loss deltas)', () => {
  it('bitrate is the bytes since the last sample over the time since it', () => {
    const next = sampleTraffic({ ...initialTraffic(1000), bytesIn: 250_000 }, 750_000, null, 3000);
    expect(next.bitrateBps).toBe(2_000_000);
    expect(next).toMatchObject({ atMs: 3000, bytesIn: 750_000 });
  });

  it('loss is lost over received plus lost in the interval, not since the connection began', () => {
    const before: Traffic = { ...initialTraffic(0), packetsLost: 10, packetsReceived: 990, lossPercent: 1 };
    const stats = srtStats({ packetsLost: 15, packetsReceived: 1085 });
    const next = sampleTraffic(before, 0, stats, 1000);
    expect(next.lossPercent).toBe(5);
    expect(next).toMatchObject({ packetsLost: 15, packetsReceived: 1085, srt: stats });
    // No packets in the interval: no loss, not NaN.
    expect(sampleTraffic(next, 0, stats, 2000).lossPercent).toBe(0);
  });

  it('without a connection to ask, the bitrate moves on and the SRT figures stay', () => {
    const stats = srtStats({ packetsLost: 1, packetsReceived: 99 });
    const before = sampleTraffic(initialTraffic(0), 0, stats, 1000);
    const next = sampleTraffic(before, 1000, null, 2000);
    expect(next.bitrateBps).toBe(8000);
    expect(next).toMatchObject({ lossPercent: 1, srt: stats, packetsLost: 1, packetsReceived: 99 });
  });

  it('two samples in the same millisecond do not divide by zero', () => {
    expect(sampleTraffic(initialTraffic(5), 1, null, 5).bitrateBps).toBe(8000);
  });
});

describe('stream status (mirror:status:{id})', () => {
  const now = new Date('2030-01-02T03:04:05.678Z');
  const base: StreamSnapshot = {
    taskId: 'task-a',
    conn: { id: 7, streamId: 'cam', peer: '192.0.2.1:4000' },
    fatal: null,
    connectedAt: Date.parse('2030-01-02T03:00:00.000Z'),
    pipeline: pipelineStatus(),
    traffic: {
      ...initialTraffic(0),
      bitrateBps: 3_456_789,
      lossPercent: 0.5,
      srt: srtStats({ packetsLost: 4 }),
    },
    now,
  };

  it('writes every field the control API and operator page read', () => {
    const status = buildStreamStatus(base);
    expect(status).toEqual({
      state: 'live',
      taskId: 'task-a',
      broadcast: 'mh3k2x9a7q4f',
      input: { codec: 'hevc', audio: 'aac', width: 1920, height: 1080, fps: 30, bitrateKbps: 3457 },
      srt: {
        rttMs: 12.5,
        lossPercent: 0.5,
        retransmitted: 3,
        dropped: 1,
        lost: 4,
        receiveRateMbps: 4.2,
        bufferMs: 120,
        bufferBytes: 64_000,
        queueDroppedBytes: 0,
      },
      protocol: 'srt',
      renditions: ['360p'],
      transcode: {
        path: 'software',
        ladder: 'tile',
        state: 'running',
        encodeFps: 29.9,
        speed: 1.01,
        outTimeMs: 5000,
        restarts: 2,
        discontinuities: 3,
        bufferedBytes: 1316,
        droppedBytes: 7,
        note: null,
      },
      error: undefined,
      peer: '192.0.2.1:4000',
      connectedAt: '2030-01-02T03:00:00.000Z',
      updatedAt: '2030-01-02T03:04:05.678Z',
    });
    expect(IngestStatus.safeParse(JSON.parse(JSON.stringify(status))).success).toBe(true);
  });

  it('an RTP publisher says protocol rtp and carries its RFC 3550 figures (D45)', () => {
    const rtp = {
      ...{
        ssrc: 9,
        srtp: true,
        packetsReceived: 1000,
        lost: 20,
        fractionLost: 0.02,
        jitterMs: 4.5,
        reordered: 3,
      },
      ...{ late: 0, authFailures: 5, replays: 0, malformed: 0, refusedSources: 1 },
    };
    const conn = { id: RTP_CONNECTION_ID_BASE + 1, streamId: 'cam', peer: '192.0.2.1:5004' };
    const status = buildStreamStatus({ ...base, conn, traffic: initialTraffic(0), rtp });
    expect(status).toMatchObject({ state: 'live', protocol: 'rtp', rtp, srt: undefined });
    expect(IngestStatus.parse(JSON.parse(JSON.stringify(status))).rtp).toEqual(rtp);
    expect(buildStreamStatus({ ...base, conn: null })).not.toHaveProperty('protocol');
  });

  it('is idle without a connection, and has no SRT block before the first stats', () => {
    const status = buildStreamStatus({ ...base, conn: null, traffic: initialTraffic(0) });
    expect(status).toMatchObject({ state: 'idle', peer: undefined, srt: undefined });
    expect(status.input).toMatchObject({ bitrateKbps: 0 });
  });

  it('is paused while the encoder is connected and viewers get the slate, and carries the part latency (D32)', () => {
    const paused = pipelineStatus({ paused: true });
    expect(buildStreamStatus({ ...base, pipeline: paused, latencyMs: 41.6 })).toMatchObject({
      state: 'paused',
      latencyMs: 42,
    });
    // Without a connection it is idle (the pause applies at the next one), and no latency is invented.
    const idle = buildStreamStatus({ ...base, conn: null, pipeline: paused });
    expect(idle.state).toBe('idle');
    expect(idle).not.toHaveProperty('latencyMs');
    expect(IngestStatus.safeParse({ state: 'paused', latencyMs: 42 }).success).toBe(true);
  });

  it('is an error when the pipeline failed or the session did, the session reason first', () => {
    const failedPipeline = pipelineStatus({ state: 'error', error: 'ffmpeg failed 6 times' });
    expect(buildStreamStatus({ ...base, pipeline: failedPipeline })).toMatchObject({
      state: 'error',
      error: 'ffmpeg failed 6 times',
    });
    expect(buildStreamStatus({ ...base, fatal: 'input refused', pipeline: failedPipeline })).toMatchObject({
      state: 'error',
      error: 'input refused',
    });
  });

  it('counts discontinuities as runs after the first, never below zero', () => {
    const before = buildStreamStatus({ ...base, pipeline: pipelineStatus({ generation: 0, input: null }) });
    expect(before.transcode).toMatchObject({ discontinuities: 0 });
    expect(before.input).toEqual({
      codec: undefined,
      audio: null,
      width: undefined,
      height: undefined,
      fps: undefined,
      bitrateKbps: 3457,
    });
  });
});

describe('task report (mirror:task:{id})', () => {
  it('reports capacity, load to two decimals, GPU, address and the drain', () => {
    const report = buildTaskReport({
      taskId: 'task-a',
      capacity: 16,
      streams: 3,
      load: 1.23456,
      gpu: true,
      address: '10.0.1.5',
      draining: false,
      now: new Date('2030-01-01T00:00:00.000Z'),
    });
    expect(report).toEqual({
      taskId: 'task-a',
      capacity: 16,
      streams: 3,
      cpuPercent: 1.23,
      gpu: true,
      address: '10.0.1.5',
      draining: false,
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(TaskReport.safeParse(report).success).toBe(true);
  });
});

describe('reporter (real redis-server)', () => {
  let redis: Redis;
  useRedisServer((_server, client) => {
    redis = client;
  });

  function session(streamId: string, bytesIn: number, connected = true): Session<SessionPipeline> {
    return reportedSession(streamId, () => pipelineStatus({ bytesIn, speed: 1.5 }), {
      connId: connected ? 1 : null,
      connectedAt: Date.now() - 1000,
    });
  }

  function reporter(metrics?: IngestMetricsSink) {
    return new Reporter({
      redis,
      taskId: 'task-r',
      capacity: 8,
      gpu: false,
      statusTtlMs: 5000,
      srtStats: () => srtStats({ packetsLost: 1, packetsReceived: 99 }),
      metrics,
    });
  }

  it('writes the status with its TTL and clears it', async () => {
    const r = reporter();
    const s = session('cam-r', 125_000);
    r.sample(s);
    await r.writeStatus(s);
    const stored = JSON.parse((await redis.get(streamKeys.status('cam-r')))!);
    expect(stored).toMatchObject({ state: 'live', taskId: 'task-r', srt: { lossPercent: 1 } });
    expect(stored.input.bitrateKbps).toBeGreaterThan(0);
    const ttl = await redis.pttl(streamKeys.status('cam-r'));
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    await r.clearStatus('cam-r');
    expect(await redis.exists(streamKeys.status('cam-r'))).toBe(0);
  });

  it('writes the task report and its index entry, and removes both', async () => {
    const r = reporter();
    await r.writeTaskReport(2, true);
    const report = JSON.parse((await redis.get(taskKeys.report('task-r')))!);
    expect(report).toMatchObject({ taskId: 'task-r', capacity: 8, streams: 2, gpu: false, draining: true });
    expect(await redis.zscore(taskKeys.index, 'task-r')).not.toBeNull();
    await r.removeTaskReport();
    expect(await redis.exists(taskKeys.report('task-r'))).toBe(0);
    expect(await redis.zscore(taskKeys.index, 'task-r')).toBeNull();
  });

  it('reports the task and each given stream to the metrics sink, with the last sample', () => {
    const report = vi.fn();
    const r = reporter({ report, streamDown() {} });
    const a = session('a', 0);
    const b = session('b', 0);
    r.sample(a);
    r.reportMetrics([a, b]);
    expect(report).toHaveBeenCalledWith({ activeStreams: 2, capacity: 8 }, [
      { streamId: 'a', bitrateBps: 0, lossPercent: 1, rttMs: 12.5, speed: 1.5 },
      // Never sampled: no SRT figures yet.
      { streamId: 'b', bitrateBps: 0, lossPercent: 0, rttMs: 0, speed: 1.5 },
    ]);
  });
});
