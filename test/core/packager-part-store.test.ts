import { beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { partKey, RedisPartStore } from '../../core/adapters/live/part-store.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { BLOCKING_PLAYLIST_MAX_AGE_S } from '../../core/contracts/delivery.js';
import { PART_RETENTION_TARGETS } from '../../core/hls/constants.js';
import type { RenditionState } from '../../core/live/state.js';
import { Packager } from '../../core/packager/index.js';
import { MediaWriter } from '../../core/packager/media-writer.js';
import {
  PART_STORE_PROBE_INTERVAL_MS,
  PART_TTL_MARGIN_MS,
  type PartStore,
  PartWriter,
  partOfSegment,
  partTtlMs,
} from '../../core/packager/part-store.js';
import { mediaKeys } from '../../core/storage/index.js';
import { controlledRedis } from '../support/redis-control.js';
import { epochClock, RecordingStorage, usePackagerFixture } from './packager-support.js';

/** Parts in the live state's Redis, segments and init segments in storage (decision D33). */

const B = 'mh3k2x9a7q4f';
let live: LiveState;
let parts: RedisPartStore;
let disk: LocalDiskStorage;

const fixture = usePackagerFixture('mirror-part-store-', 3);
beforeAll(() => {
  live = new LiveState(fixture.redis.client());
  parts = new RedisPartStore(fixture.redis.client());
  disk = new LocalDiskStorage(fixture.dir);
});

function feed(sink: { write(c: Uint8Array): void }, bytes: Uint8Array, chunk = 7919): void {
  for (let i = 0; i < bytes.byteLength; i += chunk)
    sink.write(bytes.subarray(i, Math.min(bytes.byteLength, i + chunk)));
}

/** Every part a timeline lists (complete segments' parts and the open segment's). */
function listedParts(streamId: string, state: RenditionState): string[] {
  const t = state.timeline;
  const segments = [...t.segments, ...(t.open === undefined ? [] : [t.open])];
  return segments.flatMap((s) =>
    (s.parts ?? []).map((_, i) => mediaKeys.part(streamId, '360p', s.broadcast, s.msn, i)),
  );
}

/** A live-state port that, at each publish, checks every listed part can be read where the manifest reads it. */
function checkingLive(streamId: string, readable: (key: string) => Promise<boolean>, published: string[]) {
  return {
    read: live.read.bind(live),
    publish: async (...args: Parameters<LiveState['publish']>) => {
      const [, rendition, state, at] = args;
      const key = mediaKeys.part(streamId, rendition, state.timeline.broadcast, at.msn, at.part);
      for (const listed of listedParts(streamId, state)) {
        if (!(await readable(listed)))
          throw new Error(`published ${key}, listing ${listed} that is not stored`);
      }
      published.push(key);
      return live.publish(...args);
    },
  };
}

/** Packages the fixture's source as one rendition of `streamId` (100 ms parts, 500 ms segments); resolves at its end. */
async function packageSource(
  streamId: string,
  storage: RecordingStorage,
  store: PartStore,
  liveState: ReturnType<typeof checkingLive>,
) {
  const packager = new Packager({
    storage,
    parts: store,
    live: liveState,
    partTargetMs: 100,
    segmentTargetMs: 500,
    clock: epochClock(),
  });
  const sink = packager.open(streamId, '360p', { broadcast: B });
  feed(sink, fixture.source);
  await sink.end();
  return sink;
}

describe('part TTL (what a playlist can still send a player to)', () => {
  it('outlives cached blocking responses, the listing span and a margin, per target duration', () => {
    const listedMs = (PART_RETENTION_TARGETS + 1) * 1000;
    expect(partTtlMs(800)).toBe(BLOCKING_PLAYLIST_MAX_AGE_S * 1000 + listedMs + PART_TTL_MARGIN_MS);
    expect(partTtlMs(800)).toBe(74_000);
    // TARGETDURATION rounds the segment up to whole seconds.
    expect(partTtlMs(4500)).toBe(60_000 + (PART_RETENTION_TARGETS + 1) * 5000 + 10_000);
  });
});

describe('packager with a part store', () => {
  it('writes parts to Redis with their TTL before publishing them; storage gets only init and segments', async () => {
    const storage = new RecordingStorage(disk);
    const published: string[] = [];
    const inRedis = async (key: string) => (await parts.get(key)) !== undefined;
    await packageSource('ps-1', storage, parts, checkingLive('ps-1', inRedis, published));

    expect(published.length).toBeGreaterThanOrEqual(30);
    const state = (await live.read('ps-1'))!.renditions.get('360p')!;
    const segments = state.timeline.segments;
    // One PUT per segment plus the init segment: no part reached storage.
    expect(storage.puts.filter((k) => /\/part-/.test(k))).toEqual([]);
    expect(storage.puts.sort()).toEqual(
      [
        mediaKeys.init('ps-1', '360p', B, 1),
        ...segments.map((s) => mediaKeys.segment('ps-1', '360p', B, s.msn)),
      ].sort(),
    );
    // Each stored segment is exactly its parts from Redis, in order (the segment is assembled once, in memory).
    for (const s of segments) {
      const bytes = await Promise.all(
        s.parts!.map((_, i) => parts.get(mediaKeys.part('ps-1', '360p', B, s.msn, i))),
      );
      const joined = Buffer.concat(bytes.map((b) => Buffer.from(b!)));
      expect(Buffer.from((await disk.get(mediaKeys.segment('ps-1', '360p', B, s.msn)))!)).toEqual(joined);
    }
    const redis = fixture.redis.client();
    const ttl = await redis.pttl(partKey(mediaKeys.part('ps-1', '360p', B, 0, 0)));
    expect(ttl).toBeGreaterThan(partTtlMs(500) - 10_000);
    expect(ttl).toBeLessThanOrEqual(partTtlMs(500));
  });

  it('through a part-store outage, parts go to storage and every listed part stays readable', async () => {
    const storage = new RecordingStorage(disk);
    let calls = 0;
    // The real store, failing its 6th to 20th writes (a Redis outage seen by the part writes alone, so the
    // publishes go on and show what they list).
    const flaky: PartStore = {
      put: async (key, bytes, ttlMs) => {
        calls += 1;
        if (calls > 5 && calls <= 20) throw new Error('connection lost');
        await parts.put(key, bytes, ttlMs);
      },
      get: (key) => parts.get(key),
    };
    const published: string[] = [];
    const readable = async (key: string) =>
      (await parts.get(key)) !== undefined || (await disk.get(key)) !== undefined;
    const sink = await packageSource('ps-2', storage, flaky, checkingLive('ps-2', readable, published));
    const fallbacks = storage.puts.filter((k) => /\/part-/.test(k));
    // The part that met the failure and those written while the store was down went to storage...
    expect(fallbacks.length).toBeGreaterThan(0);
    // ...and nothing was lost: every part was published, none taken back.
    expect(published.length).toBeGreaterThanOrEqual(30);
    expect(sink.storage?.()).toMatchObject({ lostParts: 0, failedWrites: 0 });
  });
});

/** Storage in memory, counting puts (the writer's fallback target). */
function memoryStorage() {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    put: async (key: string, bytes: Uint8Array) => void objects.set(key, bytes),
    get: async (key: string) => objects.get(key),
  };
}

describe('PartWriter', () => {
  it('falls back to storage on a failure, probes the store in the background, and returns to it', async () => {
    let now = 0;
    let down = true;
    const stored = new Map<string, number>();
    const store: PartStore = {
      put: async (key, _bytes, ttlMs) => {
        if (down) throw new Error('ECONNRESET');
        stored.set(key, ttlMs);
      },
      get: async () => undefined,
    };
    const storage = memoryStorage();
    const log = { warn: () => undefined, info: () => undefined };
    const writer = new MediaWriter(
      storage,
      () => now,
      log,
      {},
      () => undefined,
    );
    const parts = new PartWriter(
      { parts: store, storage, segmentTargetMs: 800, clock: () => now },
      writer,
      log,
      {},
    );
    const bytes = new Uint8Array([1]);
    expect(await parts.put('a', bytes, 0)).toBe(true); // failed on the store, stored in storage
    now += PART_STORE_PROBE_INTERVAL_MS - 1;
    expect(await parts.put('b', bytes, 0)).toBe(true); // too soon for a probe: storage only
    down = false;
    now += 1;
    expect(await parts.put('c', bytes, 0)).toBe(true); // storage, and a background probe that succeeds
    await new Promise((r) => setImmediate(r));
    expect([...storage.objects.keys()]).toEqual(['a', 'b', 'c']);
    expect(await parts.put('d', bytes, 0)).toBe(true); // the store again, alone
    expect([...storage.objects.keys()]).toEqual(['a', 'b', 'c']);
    expect([...stored]).toEqual([
      ['c', 74_000],
      ['d', 74_000],
    ]);
    expect(parts.fallbacks).toBe(3);
    expect(await parts.get('b')).toEqual(bytes); // the store misses: read from storage
  });
});

describe('a Redis node that restarts empty', () => {
  it("gets the open segment's parts again at the next write after the reconnect", async () => {
    const server = await controlledRedis();
    await server.start();
    const client = createRedisClient(server.url);
    client.on('error', () => undefined);
    try {
      const store = new RedisPartStore(client);
      const storage = memoryStorage();
      const log = { warn: () => undefined, info: () => undefined };
      const writer = new MediaWriter(storage, Date.now, log, {}, () => undefined);
      const writerOf = new PartWriter({ parts: store, storage, segmentTargetMs: 800 }, writer, log, {});
      const byte = (n: number) => new Uint8Array([n]);
      await writerOf.put('s/r/b/part-1-0.m4s', byte(10), 0); // segment 1 closes at the next part 0
      await writerOf.put('s/r/b/part-2-0.m4s', byte(20), 0);
      await writerOf.put('s/r/b/part-2-1.m4s', byte(21), 1);
      await server.start(); // killed and started again, empty
      await expect.poll(() => client.status, { timeout: 5000 }).toBe('ready');
      await writerOf.put('s/r/b/part-2-2.m4s', byte(22), 2);
      // The open segment (2) is whole again; segment 1's part is not rewritten (the manifest slices the segment).
      for (const [key, n] of [
        ['s/r/b/part-2-0.m4s', 20],
        ['s/r/b/part-2-1.m4s', 21],
        ['s/r/b/part-2-2.m4s', 22],
      ] as const) {
        expect([...((await store.get(key)) ?? [])], key).toEqual([n]);
      }
      expect(await store.get('s/r/b/part-1-0.m4s')).toBeUndefined();
      expect(storage.objects.size).toBe(0);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

/** An ISO BMFF box: 32-bit size, type, payload. */
function box(type: string, payload: number[]): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32BE(out.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(payload).copy(out, 8);
  return out;
}

describe('partOfSegment (a part cut from its stored segment)', () => {
  it('part i runs from the end of the previous mdat to the end of its own (a leading styp goes with part 0)', () => {
    const parts = [
      Buffer.concat([box('styp', [1]), box('moof', [2]), box('mdat', [3, 3])]),
      Buffer.concat([box('moof', [4]), box('mdat', [5])]),
      Buffer.concat([box('prft', [6]), box('moof', [7]), box('mdat', [8, 8, 8])]),
    ];
    const segment = Buffer.concat(parts);
    for (const [i, part] of parts.entries()) {
      expect(Buffer.from(partOfSegment(segment, i)!), `part ${i}`).toEqual(part);
    }
    expect(partOfSegment(segment, 3)).toBeUndefined();
    expect(partOfSegment(segment.subarray(0, segment.length - 1), 2)).toBeUndefined(); // truncated
    expect(partOfSegment(new Uint8Array([0, 0, 0, 1, 0x6d, 0x64, 0x61, 0x74]), 0)).toBeUndefined(); // bad size
  });

  it('cuts exactly the parts the packager stored from the segments it stored (real ffmpeg output)', async () => {
    const redis = fixture.redis.client();
    const keys = await redis.keys(`${partKey('ps-1/360p/')}*`);
    expect(keys.length).toBeGreaterThanOrEqual(30);
    const state = (await live.read('ps-1'))!.renditions.get('360p')!;
    for (const s of state.timeline.segments) {
      const segment = (await disk.get(mediaKeys.segment('ps-1', '360p', B, s.msn)))!;
      for (let i = 0; i < s.partCount; i++) {
        const stored = await parts.get(mediaKeys.part('ps-1', '360p', B, s.msn, i));
        expect(Buffer.from(partOfSegment(segment, i)!)).toEqual(Buffer.from(stored!));
      }
    }
  });
});
