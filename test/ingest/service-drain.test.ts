import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_REASON } from '../../containers/ingest/src/service/drain-plan.js';
import { type IngestService, startIngestService } from '../../containers/ingest/src/service.js';
import { loadNative, REJECT } from '../../containers/ingest/src/srt/native.js';
import { streamKeys, taskKeys } from '../../core/streams/keys.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, type Pusher, pushSrt, waitFor } from './media.js';
import { CollectingSinks } from './sinks.js';
import { createStream, publishStreamId, streamRecord } from './streams.js';

const NO_GPU = { available: false, detail: 'test machine' };
const native = loadNative();

const record = (id: string) => streamRecord(id);
const sid = publishStreamId;

/** The service's log lines, to read the close reason and the drain's decisions. */
function collectingLog() {
  const lines: { level: string; message: string; extra: Record<string, unknown>; atMs: number }[] = [];
  const at =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) => {
      lines.push({ level, message, extra, atMs: Date.now() });
    };
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

let redisServer: RedisServer;
let redis: Redis;
let clip: string;
const pushers: Pusher[] = [];
const services: IngestService[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = redisServer.client();
  clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
});
afterAll(async () => {
  await Promise.all(pushers.map((p) => p.stop()));
  await Promise.all(services.map((s) => s.stop()));
  await redisServer?.stop();
});

async function startTask(taskId: string, logger = collectingLog().logger) {
  const sinks = new CollectingSinks();
  const port = await freeUdpPort();
  const service = await startIngestService({
    redis,
    taskId,
    sinks,
    srtPort: port,
    srtHost: '127.0.0.1',
    healthPort: 0,
    gpu: NO_GPU,
    capacity: 4,
    statusIntervalMs: 300,
    logger,
  });
  services.push(service);
  return { service, sinks, port };
}

describe('ingest drain (SIGTERM)', () => {
  it('refuses new publishers, keeps the live one while no task has room, moves it once one has', async () => {
    const cam = record('drain-cam');
    const late = record('drain-late');
    await createStream(redis, cam);
    await createStream(redis, late);
    const log = collectingLog();
    const a = await startTask('drain-a', log.logger);
    const pusher = pushSrt({ clip, port: a.port, streamId: sid(cam) });
    pushers.push(pusher);
    await waitFor('publishing on A', () => a.sinks.bytes(`${cam.id}/source`).length > 30_000, 20_000);

    const drained = a.service.drain({ windowMs: 60_000 });
    // New publishers are refused at once (SRT_REJX_DOWN) and the health check says so (the NLB stops new flows).
    await new Promise((r) => setTimeout(r, 100));
    const probe = await native.probe({
      host: '127.0.0.1',
      port: a.port,
      streamId: sid(late),
      timeoutMs: 2000,
    });
    expect(probe.rejectReason).toBe(REJECT.DOWN);
    const health = await fetch(`http://127.0.0.1:${a.service.healthPort}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, draining: true });
    expect(JSON.parse((await redis.get(taskKeys.report('drain-a')))!)).toMatchObject({ draining: true });

    // Nobody else can take it: the publisher stays connected and its media keeps flowing.
    const before = a.sinks.bytes(`${cam.id}/source`).length;
    await new Promise((r) => setTimeout(r, 2000));
    expect(pusher.proc.exitCode).toBeNull();
    expect(a.sinks.bytes(`${cam.id}/source`).length).toBeGreaterThan(before + 20_000);
    expect(a.service.status(cam.id)?.state).toBe('live');
    expect(await redis.get(streamKeys.lease(cam.id))).toBe('drain-a');

    // Another task comes up: within a report interval or two the publisher is told to move.
    const up = Date.now();
    await startTask('drain-b');
    await waitFor('publisher closed', () => pusher.proc.exitCode !== null, 10_000);
    const closedAfterMs = Date.now() - up;
    expect(closedAfterMs).toBeLessThan(3000);
    const disconnected = log.lines.find((l) => l.message === 'SRT publisher disconnected');
    expect(disconnected?.extra).toMatchObject({ streamId: cam.id, reason: DRAIN_REASON });
    expect(log.lines.find((l) => l.message === 'telling a publisher to move')?.extra).toMatchObject({
      streamId: cam.id,
      cause: 'capacity',
    });

    // The drain ends the session (open segment finished), releases the lease and the report, and resolves.
    expect(await drained).toEqual({ movedForCapacity: 1, closedAtDeadline: 0, ended: 1 });
    expect(await redis.get(streamKeys.lease(cam.id))).toBeNull();
    expect(await redis.get(taskKeys.report('drain-a'))).toBeNull();
  });

  it('closes the publisher with the drain reason at the deadline when no other task has room', async () => {
    const cam = record('deadline-cam');
    await createStream(redis, cam);
    const log = collectingLog();
    const c = await startTask('drain-c', log.logger);
    // The other live tasks of this file are full or draining: nobody can take it.
    for (const s of services.slice(0, -1)) await s.stop();
    const pusher = pushSrt({ clip, port: c.port, streamId: sid(cam) });
    pushers.push(pusher);
    await waitFor('publishing on C', () => c.sinks.bytes(`${cam.id}/source`).length > 30_000, 20_000);

    const started = Date.now();
    // A 4 s window keeps a quarter (1 s) for closing: the publisher is closed about 3 s in.
    const summary = await c.service.drain({ windowMs: 4000 });
    const closed = log.lines.find((l) => l.message === 'SRT publisher disconnected');
    expect(closed?.extra).toMatchObject({ streamId: cam.id, reason: DRAIN_REASON });
    expect(closed!.atMs - started).toBeGreaterThanOrEqual(2900);
    expect(closed!.atMs - started).toBeLessThan(3800);
    expect(summary).toEqual({ movedForCapacity: 0, closedAtDeadline: 1, ended: 1 });
    expect(await redis.get(streamKeys.lease(cam.id))).toBeNull();
  });
});
