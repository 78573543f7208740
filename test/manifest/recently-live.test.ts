import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { RecentlyLive } from '../../core/hls/recently-live.js';
import type { HttpApp } from '../../core/http.js';
import { createManifestApp } from '../../functions/manifest/app.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { get, SyntheticRendition } from './helpers.js';

// A Redis restart comes back empty and the ingest republishes a moment later: in between, a stream players were
// watching must answer 503 + Retry-After (hls.js retries it), not 404 (hls.js gives up on a 4xx).
let redis: RedisServer;
let dir: string;
let live: LiveState;
let storage: LocalDiskStorage;
let clockMs = 0;
let app: HttpApp;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'mirror-recently-live-'));
  storage = new LocalDiskStorage(dir);
  live = new LiveState(redis.client());
  app = createManifestApp({
    live,
    waiters: new LiveWaiters(redis.client(), live),
    storage,
    now: () => clockMs,
    recentlyLive: new RecentlyLive({ windowMs: 60_000 }),
  });
});
afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('a stream whose live state is gone', () => {
  it('answers 503 + Retry-After + no-store while it was served live within the window, 404 after it', async () => {
    const video = new SyntheticRendition(live, storage, 'cam-gone', '360p');
    await video.init();
    const { msn } = await video.parts(7);
    expect((await app.handle(get('/cam-gone/master.m3u8'))).status).toBe(200);
    expect((await app.handle(get('/cam-gone/360p/playlist.m3u8'))).status).toBe(200);

    await redis.client().flushall(); // what a redis-server restart without persistence leaves
    clockMs += 30_000;
    for (const path of [
      '/cam-gone/master.m3u8',
      '/cam-gone/360p/playlist.m3u8',
      `/cam-gone/360p/${video.broadcast}/part-${msn}-3.m4s`,
    ]) {
      const response = await app.handle(get(path));
      expect(response.status, path).toBe(503);
      expect(response.headers, path).toMatchObject({ 'retry-after': '1', 'cache-control': 'no-store' });
      expect(JSON.parse(String(response.body)).error, path).toBe('stream_offline');
    }
    // A blocking reload too: it never waits on a stream that has no state.
    const blocking = await app.handle(get('/cam-gone/360p/playlist.m3u8', { _HLS_msn: String(msn + 1) }));
    expect(blocking.status).toBe(503);

    // Past the window the stream is just not live.
    clockMs += 31_000;
    expect((await app.handle(get('/cam-gone/master.m3u8'))).status).toBe(404);
  });

  it('answers 404 for a stream this instance never served live', async () => {
    const response = await app.handle(get('/cam-never/master.m3u8'));
    expect(response.status).toBe(404);
    expect(response.headers['retry-after']).toBeUndefined();
    expect((await app.handle(get('/cam-never/360p/playlist.m3u8'))).status).toBe(404);
  });
});

describe('RecentlyLive', () => {
  it('keeps at most maxEntries streams, forgetting the least recently seen first', () => {
    const recent = new RecentlyLive({ maxEntries: 3, windowMs: 1000 });
    for (const id of ['a', 'b', 'c']) recent.seen(id, 0);
    recent.seen('a', 1); // a is now the most recent
    recent.seen('d', 2); // over the cap: b, the least recently seen, goes
    expect(recent.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => recent.wasLive(id, 3))).toEqual([true, false, true, true]);
    for (let i = 0; i < 10_000; i++) recent.seen(`s${i}`, 10);
    expect(recent.size).toBe(3);
  });

  it('forgets a stream last seen longer ago than the window', () => {
    const recent = new RecentlyLive({ windowMs: 1000 });
    recent.seen('a', 0);
    expect(recent.wasLive('a', 1000)).toBe(true);
    expect(recent.wasLive('a', 1001)).toBe(false);
    expect(recent.size).toBe(0);
  });
});
