import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { mediaKeys } from '../../core/contracts/names.js';
import { createManifestApp } from '../../functions/manifest/app.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { bodyText, get, SyntheticRendition } from './helpers.js';

/**
 * Bounds at the manifest function's door: delivery directives only in canonical form (one cache key per playlist
 * position), and media other than parts (reaching here only under a stream named like a part, D33) answered from
 * storage alone, without a Redis call.
 */

let redis: RedisServer;
let dir: string;
let storage: LocalDiskStorage;
let live: LiveState;
const calls = { reads: 0, storageGets: 0 };
let app: ReturnType<typeof createManifestApp>;
const stream = 'bounds-1';
/** The broadcast every media name of this stream carries (decision D16). */
const B = 'mh3k2x9a7q4f';

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'mirror-bounds-'));
  storage = new LocalDiskStorage(dir);
  live = new LiveState(redis.client());
  const video = new SyntheticRendition(live, storage, stream, '360p', B);
  await video.init();
  await video.parts(12); // segments 0 and 1 complete, segment 2 open
  await storage.put(mediaKeys.segment(stream, '360p', B, 1), new Uint8Array([1]), 'segment');
  // Real Redis and disk behind counters: the refusals below must not reach either.
  const counted = new LiveState(redis.client());
  const read = counted.read.bind(counted);
  counted.read = (id: string) => {
    calls.reads++;
    return read(id);
  };
  const countedStorage = new LocalDiskStorage(dir);
  const getObject = countedStorage.get.bind(countedStorage);
  countedStorage.get = (key: string) => {
    calls.storageGets++;
    return getObject(key);
  };
  app = createManifestApp({
    live: counted,
    waiters: new LiveWaiters(redis.client(), counted),
    storage: countedStorage,
  });
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const reset = () => {
  calls.reads = 0;
  calls.storageGets = 0;
};

describe('delivery directives in canonical form only', () => {
  it.each([
    [{ _HLS_msn: '007' }, '_HLS_msn'],
    [{ _HLS_msn: '001' }, '_HLS_msn'], // segment 1 is there: without the rule, a 200 under a second cache key
    [{ _HLS_msn: '01', _HLS_part: '0' }, '_HLS_msn'],
    [{ _HLS_msn: '1', _HLS_part: '00' }, '_HLS_part'],
    [{ _HLS_msn: '1', _HLS_part: '02' }, '_HLS_part'],
    [{ _HLS_msn: ' 1' }, '_HLS_msn'],
    [{ _HLS_msn: '1', _HLS_skip: 'yes' }, '_HLS_skip'],
  ])('400 for %o naming %s, without reading the live state', async (query, field) => {
    reset();
    const response = await app.handle(get(`/${stream}/360p/playlist.m3u8`, query));
    expect(response.status).toBe(400);
    expect(response.headers['cache-control']).toBe('public, max-age=1');
    const body = JSON.parse(bodyText(response));
    expect(body).toMatchObject({ error: 'invalid_request', field });
    expect(body.message).toContain(field);
    expect(calls.reads).toBe(0);
  });

  it('answers the canonical spelling of the same position', async () => {
    const response = await app.handle(
      get(`/${stream}/360p/playlist.m3u8`, { _HLS_msn: '1', _HLS_part: '2' }),
    );
    expect(response.status).toBe(200);
  });
});

describe('media the manifest function does not hold', () => {
  it.each([
    ['a stored segment', `/${mediaKeys.segment(stream, '360p', B, 1)}`, 200],
    ['the open segment', `/${mediaKeys.segment(stream, '360p', B, 2)}`, 404],
    ['a stored init segment', `/${mediaKeys.init(stream, '360p', B, 1)}`, 200],
    ['the next init version', `/${mediaKeys.init(stream, '360p', B, 2)}`, 404],
  ])('%s: storage answers at once, Redis is not asked', async (_what, path, status) => {
    reset();
    const started = performance.now();
    const response = await app.handle(get(path));
    expect(response.status).toBe(status);
    if (status === 404) {
      expect(response.headers['cache-control']).toBe('public, max-age=1');
      expect(bodyText(response)).toContain('does not exist');
    }
    expect(performance.now() - started).toBeLessThan(50);
    expect(calls).toEqual({ reads: 0, storageGets: 1 });
  });

  it('still serves a stored part and holds the hinted one', async () => {
    const stored = await app.handle(get(`/${mediaKeys.part(stream, '360p', B, 1, 0)}`));
    expect(stored.status).toBe(200);
    reset();
    // The preload hint (segment 2, part 2) is held about 3 part targets, then 404: it reached the live state.
    const hinted = await app.handle(get(`/${mediaKeys.part(stream, '360p', B, 2, 2)}`));
    expect(hinted.status).toBe(404);
    expect(calls.reads).toBeGreaterThan(0);
  });
});
