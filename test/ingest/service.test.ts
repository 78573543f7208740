import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestService, startIngestService } from '../../containers/ingest/src/service.js';
import { loadNative, REJECT, SRT_REJ } from '../../containers/ingest/src/srt/native.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { RedisBroadcastLog } from '../../core/adapters/streams/broadcasts.js';
import { Packager } from '../../core/packager/index.js';
import { channels, streamKeys, taskKeys } from '../../core/streams/keys.js';
import type { LegacyStreamRecord as StreamRecord } from '../../core/streams/schema.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, type Pusher, pushSrt, waitFor } from './media.js';
import { CollectingSinks, topLevelBoxes } from './sinks.js';
import { createStream, publishStreamId, streamRecord } from './streams.js';

const NO_GPU = { available: false, detail: 'test machine' };
const PASS = 'a passphrase of 24 chars';
const native = loadNative();

const record = (id: string, overrides: Partial<StreamRecord> = {}) =>
  streamRecord(id, { passphrase: PASS, ...overrides });
const sid = publishStreamId;

/** Parts of every broadcast of the rendition (`{broadcast}/part-*.m4s`, decision D16). */
function listParts(root: string, streamId: string, rendition: string): string[] {
  try {
    return readdirSync(join(root, streamId, rendition), { recursive: true })
      .map(String)
      .filter((f) => basename(f).startsWith('part-'));
  } catch {
    return [];
  }
}

let redisServer: RedisServer;
let redis: Redis;
let h264Clip: string;
const pushers: Pusher[] = [];
const services: IngestService[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = redisServer.client();
  h264Clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
});
afterAll(async () => {
  await Promise.all(pushers.map((p) => p.stop()));
  await Promise.all(services.map((s) => s.stop()));
  await redisServer?.stop();
});

describe('ingest service: HEVC 1080p over SRT to LL-HLS parts', () => {
  it('accepts the stream, transcodes with libx264, publishes parts and live state, refuses others meanwhile', async () => {
    const cam = record('hevc-cam', { ladder: 'tile' });
    await createStream(redis, cam);
    const mediaDir = mkdtempSync(join(tmpdir(), 'mirror-ingest-media-'));
    const live = new LiveState(redis);
    const packager = new Packager({
      storage: new LocalDiskStorage(mediaDir),
      live,
      partTargetMs: 100,
      segmentTargetMs: 500,
    });
    const port = await freeUdpPort();
    const service = await startIngestService({
      redis,
      taskId: 'task-a',
      sinks: packager,
      srtPort: port,
      srtHost: '127.0.0.1',
      healthPort: 0,
      gpu: NO_GPU,
      statusIntervalMs: 300,
    });
    services.push(service);
    const clip = makeClip({ codec: 'hevc', width: 1920, height: 1080, seconds: 1 });
    const pusher = pushSrt({ clip, port, streamId: sid(cam), passphrase: PASS });
    pushers.push(pusher);

    await waitFor('parts in storage', () => listParts(mediaDir, cam.id, '360p').length >= 5, 30_000);
    const snapshot = await live.read(cam.id);
    expect([...(snapshot?.renditions.keys() ?? [])]).toEqual(['360p']);
    const status = await waitFor(
      'status',
      () => service.status(cam.id)?.input?.width !== undefined && service.status(cam.id),
    );
    expect(status).toMatchObject({
      state: 'live',
      taskId: 'task-a',
      broadcast: expect.stringMatching(/^[0-9a-z]{12}$/),
      input: { codec: 'hevc', width: 1920, height: 1080 },
      renditions: ['360p'],
      transcode: { path: 'software' },
    });
    const stored = JSON.parse((await redis.get(streamKeys.status(cam.id))) ?? '{}');
    expect(stored).toMatchObject({ state: 'live', taskId: 'task-a', input: { codec: 'hevc' } });
    // The input's figures through real SRT (decision D42): the clip's x265 keyint=15 (B-frames) at 30 fps, no lost
    // packets. Only the shortest GOP is asserted: the pusher's `-stream_loop` copy drops the key flag at each loop.
    await waitFor('input stats', () => service.status(cam.id)?.input?.stats?.gop, 10_000);
    expect(service.status(cam.id)?.input?.stats).toMatchObject({
      gop: { minFrames: 15 },
      bFrames: true,
      continuityErrors: 0,
    });
    // The media are written under the connection's broadcast, which the stream's broadcast log records.
    const broadcast = (status as { broadcast: string }).broadcast;
    expect(stored.broadcast).toBe(broadcast);
    expect(readdirSync(join(mediaDir, cam.id, '360p'))).toEqual([broadcast]);
    expect((await new RedisBroadcastLog(redis).list(cam.id)).map((b) => b.id)).toEqual([broadcast]);
    expect(await redis.get(streamKeys.lease(cam.id))).toBe('task-a');
    const task = JSON.parse((await redis.get(taskKeys.report('task-a'))) ?? '{}');
    expect(task).toMatchObject({ taskId: 'task-a', streams: 1, gpu: false });

    // Refusals while the stream flows.
    const probe = (streamId: string, passphrase?: string) =>
      native.probe({ host: '127.0.0.1', port, streamId, passphrase, timeoutMs: 2000 });
    const idle = record('idle-cam');
    await createStream(redis, idle);
    await new Promise((r) => setTimeout(r, 200));
    expect((await probe(sid(idle), 'not the passphrase')).rejectReason).toBe(SRT_REJ.BADSECRET);
    expect((await probe('#!::r=nobody,s=whatever-key-123')).rejectReason).toBe(REJECT.NOT_FOUND);
    expect((await probe('#!::r=hevc-cam')).rejectReason).toBe(REJECT.BAD_REQUEST);
    expect((await probe(sid(cam), PASS)).rejectReason).toBe(REJECT.CONFLICT);

    // Another task on the same Redis: the handshake passes there, the lease does not.
    const otherPort = await freeUdpPort();
    const other = await startIngestService({
      redis,
      taskId: 'task-b',
      sinks: new CollectingSinks(),
      srtPort: otherPort,
      srtHost: '127.0.0.1',
      healthPort: null,
      gpu: NO_GPU,
    });
    services.push(other);
    const second = pushSrt({ clip, port: otherPort, streamId: sid(cam), passphrase: PASS });
    pushers.push(second);
    await second.exited;
    expect(other.status(cam.id)?.state).not.toBe('live');
    expect(await redis.get(streamKeys.lease(cam.id))).toBe('task-a');

    const before = listParts(mediaDir, cam.id, '360p').length;
    await waitFor(
      'stream keeps flowing',
      () => listParts(mediaDir, cam.id, '360p').length > before + 3,
      15_000,
    );

    // Health endpoint.
    const health = await fetch(`http://127.0.0.1:${service.healthPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, redis: true, streams: 1 });

    // Drain: stop accepting, finish segments, release the lease.
    await pusher.stop();
    await service.stop();
    expect(await redis.get(streamKeys.lease(cam.id))).toBeNull();
    expect(await redis.get(taskKeys.report('task-a'))).toBeNull();
    expect(readdirSync(join(mediaDir, cam.id, '360p', broadcast)).some((f) => f.startsWith('seg-'))).toBe(
      true,
    );
    expect((await new RedisBroadcastLog(redis).list(cam.id))[0]).toMatchObject({
      id: broadcast,
      taskId: 'task-a',
      endedAt: expect.any(String),
    });
  });
});

describe('ingest service: many streams, bad streams, reconnects', () => {
  let service: IngestService;
  let sinks: CollectingSinks;
  let port: number;
  const cams = ['cam-a', 'cam-b', 'cam-c'].map((id) => record(id));
  const bad = record('cam-bad');

  beforeAll(async () => {
    for (const r of [...cams, bad]) await createStream(redis, r);
    sinks = new CollectingSinks();
    port = await freeUdpPort();
    service = await startIngestService({
      redis,
      taskId: 'task-m',
      sinks,
      srtPort: port,
      srtHost: '127.0.0.1',
      healthPort: null,
      gpu: NO_GPU,
      statusIntervalMs: 300,
      reconnectGraceMs: 10_000,
    });
    services.push(service);
  });

  const size = (id: string) => sinks.bytes(`${id}/source`).length;

  it('keeps three passthrough streams independent while garbage fails only its own stream', async () => {
    for (const cam of cams)
      pushers.push(pushSrt({ clip: h264Clip, port, streamId: sid(cam), passphrase: PASS }));
    await waitFor('all three produce fMP4', () => cams.every((c) => size(c.id) > 50_000), 30_000);
    const garbage = native.probe({
      host: '127.0.0.1',
      port,
      streamId: sid(bad),
      passphrase: PASS,
      holdMs: 3000,
      garbage: true,
    });
    await waitFor('garbage stream fails', () => service.status(bad.id)?.state === 'error', 10_000);
    expect(service.status(bad.id)?.error).toContain('MPEG-TS');
    const sizes = cams.map((c) => size(c.id));
    await waitFor('others keep flowing', () => cams.every((c, i) => size(c.id) > sizes[i]! + 20_000), 15_000);
    for (const cam of cams)
      expect(service.status(cam.id)).toMatchObject({ state: 'live', transcode: { restarts: 0 } });
    await garbage;
  });

  it('restarts ffmpeg killed with SIGKILL and continues the stream with a discontinuity', async () => {
    const pipeline = service.pipeline('cam-a')!;
    const pid = pipeline.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('restarted', () => pipeline.pid !== undefined && pipeline.pid !== pid, 10_000);
    const c = sinks.renditions.get('cam-a/source')!;
    await waitFor('output after restart', () => size('cam-a') > c.restartAt[0]! + 20_000, 10_000);
    expect(c.restarts).toBe(1);
    // Same connection, same broadcast: the packager takes the next init version in the same folder.
    expect(c.broadcasts[1]).toBe(c.broadcasts[0]);
    expect(topLevelBoxes(sinks.bytes('cam-a/source').subarray(c.restartAt[0]))[0]).toBe('ftyp');
    expect(service.status('cam-a')).toMatchObject({ transcode: { restarts: 1 } });
  });

  it('continues after the encoder disconnects and reconnects, with a discontinuity', async () => {
    const cam = cams[1]!;
    const index = 1;
    await pushers[pushers.length - 3 + index]!.stop();
    await waitFor('idle', () => service.status(cam.id)?.state === 'idle', 10_000);
    const c = sinks.renditions.get(`${cam.id}/source`)!;
    const restartsBefore = c.restarts;
    pushers.push(pushSrt({ clip: h264Clip, port, streamId: sid(cam), passphrase: PASS }));
    await waitFor('live again', () => service.status(cam.id)?.state === 'live', 10_000);
    await waitFor(
      'new output',
      () => c.restarts === restartsBefore + 1 && size(cam.id) > c.restartAt.at(-1)! + 20_000,
      15_000,
    );
    expect(topLevelBoxes(sinks.bytes(`${cam.id}/source`).subarray(c.restartAt.at(-1)))[0]).toBe('ftyp');
    expect(await redis.get(streamKeys.lease(cam.id))).toBe('task-m');
    // A reconnect is a new broadcast (new media names), and the status says which.
    expect(c.broadcasts.at(-1)).toMatch(/^[0-9a-z]{12}$/);
    expect(c.broadcasts.at(-1)).not.toBe(c.broadcasts.at(-2));
    expect(service.status(cam.id)?.broadcast).toBe(c.broadcasts.at(-1));
  });

  it('follows the registry: a new stream is admitted, a deleted one is refused and disconnected', async () => {
    const late = record('cam-late', { passphrase: null });
    await createStream(redis, late);
    await new Promise((r) => setTimeout(r, 200));
    expect(
      (await native.probe({ host: '127.0.0.1', port, streamId: late.publishKey, timeoutMs: 2000 })).connected,
    ).toBe(true);
    await redis.del(streamKeys.record(late.id));
    await redis.publish(channels.streamChanges, JSON.stringify({ type: 'delete', streamId: late.id }));
    await new Promise((r) => setTimeout(r, 200));
    expect(
      (await native.probe({ host: '127.0.0.1', port, streamId: late.publishKey, timeoutMs: 2000 }))
        .rejectReason,
    ).toBe(REJECT.NOT_FOUND);
  });

  it('disconnects a publisher on the control API command', async () => {
    const cam = cams[2]!;
    await redis.publish(
      channels.ingestCommands,
      JSON.stringify({ type: 'disconnect', streamId: cam.id, reason: 'operator' }),
    );
    await waitFor('idle', () => service.status(cam.id)?.state === 'idle', 10_000);
  });
});
