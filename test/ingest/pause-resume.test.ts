import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartLatencies } from '../../containers/ingest/src/service/part-latency.js';
import { type IngestService, startIngestService } from '../../containers/ingest/src/service.js';
import { StreamPipeline } from '../../containers/ingest/src/transcode/pipeline.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { renditionFiles } from '../../core/contracts/names.js';
import type { RenditionTimeline } from '../../core/hls/index.js';
import { Packager } from '../../core/packager/index.js';
import { streamKeys } from '../../core/streams/keys.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, type Pusher, pushSrt, waitFor } from './media.js';
import { CollectingSinks } from './sinks.js';
import { createStream, publishStreamId, streamRecord } from './streams.js';

// Pause, resume and restart with the real pieces (decision D32): SRT from an ffmpeg caller, the ingest service with
// its transcoder and slate ffmpeg, the packager on disk, redis-server; commands sent the control API's way (record +
// command channel through StreamRegistry). Passthrough keeps the transcode a copy: the only encode is the slate's.

const NO_GPU = { available: false, detail: 'test machine' };
/** Mean luma of the test pattern (testsrc2) is far above the slate's dark background (measured 36). */
const SLATE_MAX_YAVG = 55;
/** The stream's `low` profile: 4-frame parts at 30 fps (core/latency-profiles.ts). */
const PART_MS = 4000 / 30;

let redisServer: RedisServer;
let redis: Redis;
let service: IngestService;
let mediaDir: string;
let live: LiveState;
let registry: StreamRegistry;
const pushers: Pusher[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = redisServer.client();
  registry = new StreamRegistry(redis);
  mediaDir = mkdtempSync(join(tmpdir(), 'mirror-pause-'));
  live = new LiveState(redis);
  const latencies = new PartLatencies();
  const packager = new Packager({
    storage: new LocalDiskStorage(mediaDir),
    live,
    partTargetMs: 200,
    segmentTargetMs: 1000,
    onPublish: (part) => latencies.record(part),
  });
  service = await startIngestService({
    redis,
    taskId: 'task-p',
    sinks: packager,
    srtPort: await freeUdpPort(),
    srtHost: '127.0.0.1',
    healthPort: null,
    gpu: NO_GPU,
    statusIntervalMs: 300,
    partLatencies: latencies,
  });
});
afterAll(async () => {
  await Promise.all(pushers.map((p) => p.stop()));
  await service?.stop();
  await redisServer?.stop();
});

async function timeline(streamId: string): Promise<RenditionTimeline | undefined> {
  return (await live.read(streamId))?.renditions.get('source')?.timeline;
}

/** Parts published so far with the init version (each pause, resume and restart takes the next one). */
function partsOf(t: RenditionTimeline | undefined, initVersion: number): number {
  if (!t) return 0;
  const done = t.segments.filter((s) => s.initVersion === initVersion).reduce((n, s) => n + s.partCount, 0);
  return done + (t.open?.initVersion === initVersion ? t.open.parts.length : 0);
}

async function waitParts(streamId: string, initVersion: number, count: number, timeoutMs = 15_000) {
  let last: RenditionTimeline | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    last = await timeline(streamId);
    if (partsOf(last, initVersion) >= count) return last as RenditionTimeline;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`init version ${initVersion}: fewer than ${count} parts (${partsOf(last, initVersion)})`);
}

/** A complete segment of the init version is listed (the first one after a switch carries the discontinuity). */
async function waitSegment(streamId: string, initVersion: number): Promise<RenditionTimeline> {
  let found: RenditionTimeline | undefined;
  await waitFor(`a segment of init version ${initVersion}`, () => {
    void timeline(streamId).then((t) => {
      if (t?.segments.some((s) => s.initVersion === initVersion)) found = t;
    });
    return found;
  });
  return found as RenditionTimeline;
}

/** Mean luma of the first frames of a stored segment of `initVersion` (init + segment decoded by ffmpeg). */
function segmentLuma(streamId: string, t: RenditionTimeline, initVersion: number): number {
  const segment = t.segments.find((s) => s.initVersion === initVersion);
  if (!segment) throw new Error(`no complete segment of init version ${initVersion}`);
  const dir = join(mediaDir, streamId, 'source');
  const file = join(mkdtempSync(join(tmpdir(), 'mirror-seg-')), 'seg.mp4');
  writeFileSync(
    file,
    Buffer.concat([
      readFileSync(join(dir, renditionFiles.init(segment.broadcast, initVersion))),
      readFileSync(join(dir, renditionFiles.segment(segment.broadcast, segment.msn))),
    ]),
  );
  const probe = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-i', file, '-frames:v', '3', '-vf', 'signalstats,metadata=print', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const match = /YAVG=([\d.]+)/.exec(probe.stderr);
  if (!match) throw new Error(`no luma measured: ${probe.stderr.slice(-400)}`);
  return Number(match[1]);
}

describe('pause, resume, restart: the encoder stays connected (decision D32)', () => {
  it('pauses to a slate that keeps the playlist advancing, resumes the input after a discontinuity, restarts', async () => {
    const cam = streamRecord('pause-cam');
    await createStream(redis, cam);
    const clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
    const pusher = pushSrt({ clip, port: service.srtPort, streamId: publishStreamId(cam) });
    pushers.push(pusher);

    const first = await waitParts(cam.id, 1, 6, 30_000);
    const broadcast = first.broadcast;
    expect(service.status(cam.id)).toMatchObject({ state: 'live', broadcast });

    // Pause: the slate (init version 2, same broadcast) after a discontinuity, at the part cadence.
    await registry.setPaused(cam.id, true);
    const pausedAt = Date.now();
    await waitFor('status paused', () => service.status(cam.id)?.state === 'paused');
    const slateStart = await waitParts(cam.id, 2, 1);
    const firstSlate = Date.now() - pausedAt;
    await waitParts(cam.id, 2, 12);
    const slated = await waitSegment(cam.id, 2);
    const slateSegments = slated.segments.filter((s) => s.initVersion === 2);
    expect(slateSegments[0]?.discontinuity).toBe(true);
    expect(slateSegments.every((s) => s.broadcast === broadcast)).toBe(true);
    expect(segmentLuma(cam.id, slated, 2)).toBeLessThan(SLATE_MAX_YAVG);
    // The playlist keeps advancing at the part cadence: 12 parts took about their duration in real time.
    expect(Date.now() - pausedAt).toBeLessThan(firstSlate + 12 * PART_MS * 2 + 1500);
    // The encoder is still connected: the same broadcast (a reconnect would start another), its caller alive.
    expect(pusher.proc.exitCode).toBeNull();
    expect(service.status(cam.id)).toMatchObject({ state: 'paused', broadcast });
    expect(slateStart.broadcast).toBe(broadcast);
    // The stored status says so too, with the part publish latency (the operator's latency column).
    const stored = JSON.parse((await redis.get(streamKeys.status(cam.id))) ?? '{}');
    expect(stored.state).toBe('paused');
    expect(stored.latencyMs).toEqual(expect.any(Number));

    // Resume: the input again (init version 3) after a discontinuity, within 3 s.
    await registry.setPaused(cam.id, false);
    const resumedAt = Date.now();
    await waitParts(cam.id, 3, 1, 3000);
    const resumeMs = Date.now() - resumedAt;
    expect(resumeMs).toBeLessThan(3000);
    const resumed = await waitSegment(cam.id, 3);
    expect(resumed.segments.find((s) => s.initVersion === 3)?.discontinuity).toBe(true);
    expect(segmentLuma(cam.id, resumed, 3)).toBeGreaterThan(SLATE_MAX_YAVG);
    await waitFor('status live', () => service.status(cam.id)?.state === 'live');

    // Restart: a new transcode run (init version 4) under the same broadcast, the caller still connected.
    expect(await registry.restart(cam.id)).toBeGreaterThanOrEqual(1);
    const restarted = await waitParts(cam.id, 4, 3);
    expect(restarted.broadcast).toBe(broadcast);
    expect(pusher.proc.exitCode).toBeNull();
    expect(service.status(cam.id)).toMatchObject({ state: 'live', broadcast });

    // Commands in quick succession (an operator double-clicking, a command and its record change): switches run
    // one at a time, so the end state holds with one transcoder and one slate generator, never two runs.
    const pipeline = service.pipeline(cam.id);
    void pipeline?.setPaused(true);
    void pipeline?.setPaused(false);
    void pipeline?.restart();
    await pipeline?.setPaused(true);
    // How many runs that makes depends on how far each got before the next: wait for the newest to publish.
    let settled: RenditionTimeline | undefined;
    await waitFor('the last switch publishes', () => {
      void timeline(cam.id).then((t) => {
        settled = t;
      });
      return settled && settled.initVersion > 4 && partsOf(settled, settled.initVersion) >= 8;
    });
    expect(settled?.broadcast).toBe(broadcast);
    expect(
      segmentLuma(cam.id, await waitSegment(cam.id, settled?.initVersion ?? 0), settled?.initVersion ?? 0),
    ).toBeLessThan(SLATE_MAX_YAVG);
    expect(service.status(cam.id)?.state).toBe('paused');
    const children = spawnSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    const lines = children.stdout.split('\n');
    expect(lines.filter((l) => l.includes('-i pipe:0'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('anullsrc'))).toHaveLength(1);
    console.log(
      `first slate part ${firstSlate} ms after pause; first input part ${resumeMs} ms after resume`,
    );
  }, 90_000);

  it('a stream paused in its record starts on the slate when its encoder connects (takeover keeps the pause)', async () => {
    const cam = streamRecord('paused-cam', { paused: true });
    await createStream(redis, cam);
    const clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
    const pusher = pushSrt({ clip, port: service.srtPort, streamId: publishStreamId(cam) });
    pushers.push(pusher);
    await waitParts(cam.id, 1, 8, 30_000);
    const t = await waitSegment(cam.id, 1);
    expect(service.status(cam.id)?.state).toBe('paused');
    expect(segmentLuma(cam.id, t, 1)).toBeLessThan(SLATE_MAX_YAVG);
    await pusher.stop();
  }, 60_000);

  it('publishes no slate before the session admits the connection (the lease may be another task’s)', async () => {
    const sinks = new CollectingSinks();
    const pipeline = new StreamPipeline({
      streamId: 'unadmitted',
      ladder: 'passthrough',
      gpuMode: 'off',
      gpu: NO_GPU,
      sinks,
    });
    try {
      // A pause command for a stream whose lease is still being taken: recorded, nothing runs.
      expect(await pipeline.setPaused(true)).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      expect(sinks.renditions.size).toBe(0);
      expect(pipeline.status()).toMatchObject({ paused: true, state: 'probing' });
      // The first admitted byte (dropped: paused) starts the slate, which the pipeline packages.
      pipeline.write(Buffer.alloc(188));
      await waitFor('slate output', () => sinks.bytes('unadmitted/source').length > 0, 15_000);
    } finally {
      await pipeline.stop();
    }
  });
});
