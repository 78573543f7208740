import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { InputStatsTable } from '../../containers/ingest/src/service/input-stats.js';
import { Reporter } from '../../containers/ingest/src/service/reporter.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';
import { streamKeys } from '../../core/streams/keys.js';
import { IngestStatus } from '../../core/streams/status.js';
import { statusView } from '../../functions/control/views.js';
import { reportedSession } from '../support/ingest-session.js';
import { FFMPEG_QUIET, ffmpegStdout } from '../support/media.js';
import { useRedisServer } from '../support/redis-hooks.js';

describe('input statistics in the stream status (decision D42)', () => {
  let redis: Redis;
  useRedisServer((_server, client) => {
    redis = client;
  });

  it('carries the figures of a real encode from the connection to the control API view', async () => {
    const ts = await ffmpegStdout([
      ...FFMPEG_QUIET,
      ...['-f', 'lavfi', '-t', '3', '-i', 'testsrc2=size=160x90:rate=30'],
      ...['-f', 'lavfi', '-t', '3', '-i', 'sine=sample_rate=48000'],
      ...['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-g', '30', '-sc_threshold', '0', '-bf', '2'],
      ...['-c:a', 'aac', '-f', 'mpegts', 'pipe:1'],
    ]);
    const table = new InputStatsTable(2);
    table.opened(7);
    for (let at = 0; at < ts.length; at += 1316) table.data(7, ts.subarray(at, at + 1316), at / 1316);
    const session = reportedSession(
      'cam-stats',
      () => ({ state: 'running', bufferedBytes: 262_144, renditions: [] }) as unknown as PipelineStatus,
      { connId: 7 },
    );
    const reporter = new Reporter({
      redis,
      taskId: 'task-s',
      capacity: 1,
      gpu: false,
      statusTtlMs: 5000,
      srtStats: () => null,
      inputStats: (id) => table.snapshot(id),
      inputQueueMaxBytes: 1024 * 1024,
    });
    await reporter.writeStatus(session);
    const status = IngestStatus.parse(JSON.parse((await redis.get(streamKeys.status('cam-stats')))!));
    const expected = {
      gop: { frames: 30, minFrames: 30, maxFrames: 30 },
      bFrames: true,
      fps: 30,
      continuityErrors: 0,
      queueBytes: 262_144,
      queuePercent: 25,
    };
    expect(status.input?.stats).toMatchObject(expected);
    expect(statusView(status, 'task-s').input?.stats).toMatchObject(expected);
    // The connection closes: its figures go with it (the table stays bounded by open connections).
    table.closed(7);
    expect(table.size).toBe(0);
    await reporter.writeStatus(session);
    const after = IngestStatus.parse(JSON.parse((await redis.get(streamKeys.status('cam-stats')))!));
    expect(after.input?.stats).toBeUndefined();
  });

  it('keeps at most its bound of connections, dropping the oldest', () => {
    const table = new InputStatsTable(2);
    for (const id of [1, 2, 3]) table.opened(id);
    expect(table.size).toBe(2);
    expect(table.snapshot(1)).toBeUndefined();
    expect(table.snapshot(3)).toBeDefined();
  });
});
