import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import HLS from 'hls-parser';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpApp } from '../../core/http.js';
import { liveKeys } from '../../core/live/index.js';
import { newBroadcastId } from '../../core/storage/index.js';
import {
  BLOCKING_PLAYLIST_CACHE_CONTROL,
  createManifestApp,
  LIVE_PLAYLIST_CACHE_CONTROL,
} from '../../functions/manifest/app.js';
import { freePort } from '../support/ports.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { bodyText, get, partBytes, SyntheticRendition, settledWithin } from './helpers.js';

let redis: RedisServer;
let dir: string;
let live: LiveState;
let waiters: LiveWaiters;
let app: HttpApp;
let storage: LocalDiskStorage;
let streamCounter = 0;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'mirror-manifest-'));
  storage = new LocalDiskStorage(dir);
  live = new LiveState(redis.client());
  waiters = new LiveWaiters(redis.client(), live);
  app = createManifestApp({ live, waiters, storage });
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

let stream: string;
let video: SyntheticRendition;
let sibling: SyntheticRendition;
beforeEach(async () => {
  stream = `cam-${++streamCounter}`;
  video = new SyntheticRendition(live, storage, stream, '360p');
  sibling = new SyntheticRendition(live, storage, stream, '720p');
  await video.init();
  await sibling.init();
});

/** Answers a GET and says how long the answer took (ms). */
async function timedGet(path: string, query: Record<string, string> = {}) {
  const started = performance.now();
  const response = await app.handle(get(path, query));
  return { response, elapsedMs: performance.now() - started };
}

describe('playlists', () => {
  it('multivariant playlist lists every rendition with measured bandwidth, codecs, resolution and frame rate', async () => {
    await video.parts(12);
    await sibling.parts(12);
    const response = await app.handle(get(`/${stream}/master.m3u8`));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    const parsed = HLS.parse(bodyText(response)) as HLS.types.MasterPlaylist;
    expect(parsed.variants.map((v) => v.uri).sort()).toEqual(['360p/playlist.m3u8', '720p/playlist.m3u8']);
    // 1000 bytes per 100 ms part = 80 kbit/s
    expect(parsed.variants[0]!.bandwidth).toBe(80_000);
    expect(parsed.variants[0]!.averageBandwidth).toBe(80_000);
    expect(parsed.variants[0]!.codecs).toBe('avc1.64001e,mp4a.40.2');
  });

  it('media playlist: short max-age (never no-cache), CORS, rendition report for the sibling', async () => {
    await video.parts(7);
    await sibling.parts(3);
    const response = await app.handle(get(`/${stream}/360p/playlist.m3u8`));
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe(LIVE_PLAYLIST_CACHE_CONTROL);
    expect(response.headers['cache-control']).not.toContain('no-cache');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const parsed = HLS.parse(bodyText(response)) as HLS.types.MediaPlaylist;
    expect(parsed.renditionReports).toEqual([
      expect.objectContaining({ uri: '../720p/playlist.m3u8', lastMSN: 0, lastPart: 2 }),
    ]);
  });

  it('404 for an unknown stream or rendition', async () => {
    await video.parts(1);
    expect((await app.handle(get('/nobody/master.m3u8'))).status).toBe(404);
    expect((await app.handle(get('/nobody/360p/playlist.m3u8'))).status).toBe(404);
    expect((await app.handle(get(`/${stream}/1080p/playlist.m3u8`))).status).toBe(404);
  });

  it('_HLS_skip=YES answers a delta update with EXT-X-SKIP', async () => {
    await video.parts(100);
    const response = await app.handle(get(`/${stream}/360p/playlist.m3u8`, { _HLS_skip: 'YES' }));
    const parsed = HLS.parse(bodyText(response)) as HLS.types.MediaPlaylist;
    expect(parsed.skip).toBeGreaterThan(0);
  });
});

describe('blocking playlist reload', () => {
  it('a waiter is released by the publish it waits for and by nothing earlier', async () => {
    await video.parts(7); // segment 0 complete; segment 1 has parts 0, 1
    const pending = app.handle(get(`/${stream}/360p/playlist.m3u8`, { _HLS_msn: '1', _HLS_part: '3' }));
    expect(await settledWithin(pending, 100)).toBe('pending');
    expect(await video.part()).toEqual({ msn: 1, part: 2 });
    expect(await settledWithin(pending, 100)).toBe('pending');
    await sibling.parts(3); // another rendition's publishes on the same stream do not satisfy it
    expect(await settledWithin(pending, 100)).toBe('pending');
    expect(await video.part()).toEqual({ msn: 1, part: 3 });
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe(BLOCKING_PLAYLIST_CACHE_CONTROL);
    expect(bodyText(response)).toContain(`${video.broadcast}/part-1-3.m4s`);
  });

  it('_HLS_msn without _HLS_part waits for the whole segment', async () => {
    await video.parts(6);
    const pending = app.handle(get(`/${stream}/360p/playlist.m3u8`, { _HLS_msn: '1' }));
    await video.parts(3);
    expect(await settledWithin(pending, 100)).toBe('pending');
    await video.parts(2); // part 10 starts segment 2, completing segment 1
    const response = await pending;
    expect(response.status).toBe(200);
    expect(bodyText(response)).toContain(`${video.broadcast}/seg-1.m4s`);
  });

  it('answers at once when the request is already satisfied', async () => {
    await video.parts(7);
    const { response, elapsedMs } = await timedGet(`/${stream}/360p/playlist.m3u8`, {
      _HLS_msn: '1',
      _HLS_part: '1',
    });
    expect(response.status).toBe(200);
    expect(elapsedMs).toBeLessThan(100);
  });

  it.each([
    [{ _HLS_msn: '4' }, '_HLS_msn'], // last segment is 1: more than 2 beyond
    [{ _HLS_msn: '1', _HLS_part: '40' }, '_HLS_part'],
    [{ _HLS_part: '1' }, '_HLS_part'],
    [{ _HLS_msn: 'abc' }, '_HLS_msn'],
    [{ _HLS_msn: '-1' }, '_HLS_msn'],
    [{ _HLS_msn: '1', _HLS_part: '1.5' }, '_HLS_part'],
    [{ _HLS_skip: 'NO' }, '_HLS_skip'],
  ])('400 for %o naming %s', async (query, field) => {
    await video.parts(7);
    const response = await app.handle(get(`/${stream}/360p/playlist.m3u8`, query));
    expect(response.status).toBe(400);
    expect(JSON.parse(bodyText(response))).toMatchObject({ error: 'invalid_request', field });
    expect(JSON.parse(bodyText(response)).message).toContain(field);
  });

  it('503 when not satisfied within about 3 target durations', async () => {
    await video.parts(7);
    const { response, elapsedMs } = await timedGet(`/${stream}/360p/playlist.m3u8`, { _HLS_msn: '2' });
    expect(response.status).toBe(503);
    expect(elapsedMs).toBeGreaterThanOrEqual(2900);
    expect(elapsedMs).toBeLessThan(4000);
  });

  it('1,000 concurrent waiters are all released by one publish, over one subscription', async () => {
    await video.parts(7);
    let reads = 0;
    const counting = new LiveState(redis.client());
    const read = counting.read.bind(counting);
    counting.read = (id: string) => {
      reads++;
      return read(id);
    };
    const subscriber = redis.client();
    const shared = createManifestApp({
      live: counting,
      waiters: new LiveWaiters(subscriber, counting),
      storage,
    });
    const requests = Array.from({ length: 1000 }, () =>
      shared.handle(get(`/${stream}/360p/playlist.m3u8`, { _HLS_msn: '1', _HLS_part: '2' })),
    );
    expect(await settledWithin(Promise.all(requests), 200)).toBe('pending');
    // Let every request finish its own read and registration (slow on a loaded machine) before counting.
    for (let previous = -1; previous !== reads; ) {
      previous = reads;
      await new Promise((r) => setTimeout(r, 150));
    }
    const numsub = (await redis.client().pubsub('NUMSUB', liveKeys.notify(stream))) as [string, number];
    expect(numsub[1]).toBe(1);
    const readsBeforePublish = reads;
    const started = performance.now();
    await video.part();
    const responses = await Promise.all(requests);
    const elapsed = performance.now() - started;
    expect(
      responses.every((r) => r.status === 200 && bodyText(r).includes(`${video.broadcast}/part-1-2.m4s`)),
    ).toBe(true);
    // One shared read wakes everybody (the 1,000 initial reads are the requests' own hot-path reads).
    expect(reads - readsBeforePublish).toBeLessThanOrEqual(2);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe('preload-hinted media', () => {
  it('holds a request for the hinted part until it is published, then serves its bytes', async () => {
    await video.parts(7);
    const pending = app.handle(get(`/${stream}/360p/${video.broadcast}/part-1-2.m4s`));
    // The hold lasts 3 part targets (300 ms): publish well within it, even on a loaded machine.
    expect(await settledWithin(pending, 30)).toBe('pending');
    await video.part();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toContain('immutable');
    expect(response.body).toEqual(partBytes(1, 2));
  });

  it('404 at once for a part that is neither stored nor next', async () => {
    await video.parts(7);
    const { response, elapsedMs } = await timedGet(`/${stream}/360p/${video.broadcast}/part-5-2.m4s`);
    expect(response.status).toBe(404);
    expect(elapsedMs).toBeLessThan(100);
  });

  it('404 after about 3 part targets when the hinted part does not appear', async () => {
    await video.parts(7);
    const { response, elapsedMs } = await timedGet(`/${stream}/360p/${video.broadcast}/part-1-2.m4s`);
    expect(response.status).toBe(404);
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('serves stored media straight from storage', async () => {
    await video.parts(3);
    const response = await app.handle(get(`/${stream}/360p/${video.broadcast}/part-0-1.m4s`));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('video/iso.segment');
  });

  it('404 at once for the hinted numbers under a broadcast that is not the current one (decision D16)', async () => {
    await video.parts(7); // the hint is segment 1, part 2
    const unknown = newBroadcastId(Date.now());
    const { response, elapsedMs } = await timedGet(`/${stream}/360p/${unknown}/part-1-2.m4s`);
    expect(response.status).toBe(404);
    expect(elapsedMs).toBeLessThan(100);
  });

  it('after a reconnect: holds the new broadcast hinted part; the old one is read from storage only', async () => {
    await video.parts(7);
    const before = video.broadcast;
    await video.reconnect(newBroadcastId(Date.now()));
    await video.parts(2); // the reconnect opened segment 2 (parts 0, 1); the hint is segment 2, part 2
    // The earlier broadcast's parts still listed keep their names and bytes.
    const playlist = bodyText(await app.handle(get(`/${stream}/360p/playlist.m3u8`)));
    expect(playlist).toContain(`${before}/part-1-1.m4s`);
    expect(playlist).toContain(`#EXT-X-MAP:URI="${video.broadcast}/init-1.mp4"`);
    expect(playlist).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${video.broadcast}/part-2-2.m4s"`);
    expect((await app.handle(get(`/${stream}/360p/${before}/part-1-1.m4s`))).status).toBe(200);
    // The same numbers under the earlier broadcast: nothing will publish them, so no hold.
    const stale = await timedGet(`/${stream}/360p/${before}/part-2-2.m4s`);
    expect(stale.response.status).toBe(404);
    expect(stale.elapsedMs).toBeLessThan(100);
    const pending = app.handle(get(`/${stream}/360p/${video.broadcast}/part-2-2.m4s`));
    expect(await settledWithin(pending, 30)).toBe('pending');
    await video.part();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.body).toEqual(partBytes(2, 2));
  });
});

describe('live state unreachable', () => {
  it('503 with Retry-After when Redis is down', async () => {
    const port = await freePort();
    const dead = new Redis(`redis://127.0.0.1:${port}`, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    dead.on('error', () => undefined);
    const deadSubscriber = dead.duplicate();
    deadSubscriber.on('error', () => undefined);
    const deadLive = new LiveState(dead);
    const down = createManifestApp({
      live: deadLive,
      waiters: new LiveWaiters(deadSubscriber, deadLive),
      storage,
    });
    const response = await down.handle(get('/cam-x/360p/playlist.m3u8'));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['cache-control']).toBe('no-store');
    dead.disconnect();
  });
});
