import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { RedisPartStore } from '../../core/adapters/live/part-store.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpApp } from '../../core/http.js';
import {
  IMMUTABLE_CACHE_CONTROL,
  type MediaClass,
  type MediaStorage,
  mediaKeys,
} from '../../core/storage/index.js';
import { createManifestApp, manifestDepsFromRedis } from '../../functions/manifest/app.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { bodyText, get, partBytes, SyntheticRendition, settledWithin } from './helpers.js';

/** The manifest function as the parts' origin (decision D33): parts from Redis, storage as the fallback. */

let redis: RedisServer;
let dir: string;
let disk: LocalDiskStorage;
let live: LiveState;
let parts: RedisPartStore;
let app: HttpApp;

/** What the packager does with a part store: parts to Redis, everything else to storage. */
const packagerStorage = (): MediaStorage => ({
  put: (key: string, bytes: Uint8Array, mediaClass: MediaClass) =>
    mediaClass === 'part' ? parts.put(key, bytes, 60_000) : disk.put(key, bytes, mediaClass),
  get: (key: string) => disk.get(key),
});

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'mirror-manifest-parts-'));
  disk = new LocalDiskStorage(dir);
  live = new LiveState(redis.client());
  parts = new RedisPartStore(redis.client());
  app = createManifestApp(manifestDepsFromRedis(redis.client(), disk));
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

async function rendition(stream: string) {
  const video = new SyntheticRendition(live, packagerStorage(), stream, '360p');
  await video.init();
  return video;
}

describe('parts served from the part store', () => {
  it('serves a published part from Redis, immutable, with none of it in storage', async () => {
    const video = await rendition('ps-a');
    const at = await video.part();
    const key = mediaKeys.part('ps-a', '360p', video.broadcast, at.msn, at.part);
    expect(await disk.get(key)).toBeUndefined();
    const response = await app.handle(get(`/${key}`));
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body as Uint8Array)).toEqual(Buffer.from(partBytes(at.msn, at.part)));
    expect(response.headers['cache-control']).toBe(IMMUTABLE_CACHE_CONTROL);
    expect(response.headers['content-type']).toBe('video/iso.segment');
  });

  it('holds the hinted part until it is published, then serves it from Redis', async () => {
    const video = await rendition('ps-b');
    await video.parts(7); // the hint is segment 1, part 2
    const pending = app.handle(get(`/ps-b/360p/${video.broadcast}/part-1-2.m4s`));
    expect(await settledWithin(pending, 50)).toBe('pending');
    await video.part();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body as Uint8Array)).toEqual(Buffer.from(partBytes(1, 2)));
  });

  it('serves a part stored in storage (written there through a Redis outage) when Redis misses', async () => {
    const video = await rendition('ps-c');
    await video.parts(3);
    const key = mediaKeys.part('ps-c', '360p', video.broadcast, 0, 3);
    await disk.put(key, new Uint8Array([7, 7]), 'part');
    const response = await app.handle(get(`/${key}`));
    expect(response.status).toBe(200);
    expect([...(response.body as Uint8Array)]).toEqual([7, 7]);
  });

  it('404 for a listed part that expired from Redis and is not in storage', async () => {
    const video = await rendition('ps-d');
    await video.parts(2);
    const key = mediaKeys.part('ps-d', '360p', video.broadcast, 0, 0);
    await redis.client().del(`mirror:live:part:${key}`);
    const response = await app.handle(get(`/${key}`));
    expect(response.status).toBe(404);
    expect(bodyText(response)).toContain('does not exist');
  });

  it('serves a part of a closed segment that Redis lost (a node restarted empty) cut from the segment', async () => {
    const video = await rendition('ps-f');
    await video.parts(6); // segment 0 closed
    const box = (type: string, fill: number) => {
      const b = Buffer.alloc(16, fill);
      b.writeUInt32BE(16, 0);
      b.write(type, 4, 'latin1');
      return b;
    };
    const cut = (i: number) => Buffer.concat([box('moof', i), box('mdat', i)]);
    const segment = Buffer.concat([0, 1, 2, 3, 4].map(cut));
    await disk.put(mediaKeys.segment('ps-f', '360p', video.broadcast, 0), segment, 'segment');
    await redis.client().flushall();
    await video.part(); // the live state again (the packager's next publish carries the whole timeline)
    const listed = await app.handle(get(`/${mediaKeys.part('ps-f', '360p', video.broadcast, 0, 3)}`));
    expect(listed.status).toBe(200);
    expect(Buffer.from(listed.body as Uint8Array)).toEqual(cut(3));
    // A part of an earlier broadcast (no longer the live one) is cut from its segment too; a missing one is 404.
    await disk.put(mediaKeys.segment('ps-f', '360p', 'mh3k4c1bx0z2', 7), segment, 'segment');
    const old = await app.handle(get(`/${mediaKeys.part('ps-f', '360p', 'mh3k4c1bx0z2', 7, 1)}`));
    expect(Buffer.from(old.body as Uint8Array)).toEqual(cut(1));
    expect((await app.handle(get(`/${mediaKeys.part('ps-f', '360p', 'mh3k4c1bx0z2', 7, 5)}`))).status).toBe(
      404,
    );
  });

  it('serves a segment under a stream named part-... (it matches the part pattern) from storage', async () => {
    const video = await rendition('part-1');
    await video.parts(6); // closes segment 0
    const key = mediaKeys.segment('part-1', '360p', video.broadcast, 0);
    await disk.put(key, new Uint8Array([5]), 'segment');
    const response = await app.handle(get(`/${key}`));
    expect(response.status).toBe(200);
    expect([...(response.body as Uint8Array)]).toEqual([5]);
    const missing = await app.handle(get(`/${mediaKeys.segment('part-1', '360p', video.broadcast, 9)}`));
    expect(missing.status).toBe(404);
  });

  it('503 (retried, never cached) when the part store cannot be read', async () => {
    const down = createManifestApp({
      live,
      waiters: { wait: async () => undefined },
      storage: disk,
      parts: { get: async () => Promise.reject(new Error('connection is closed')) },
    });
    const response = await down.handle(get('/ps-e/360p/mh3k2x9a7q4f/part-1-0.m4s'));
    expect(response.status).toBe(503);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
