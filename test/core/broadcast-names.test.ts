import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { RedisBroadcastLog } from '../../core/adapters/streams/broadcasts.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { buildMediaPlaylist, MSN_FLOOR_EPOCH_MS, renderMediaPlaylist } from '../../core/hls/index.js';
import type { RenditionSink } from '../../core/media/rendition-sink.js';
import { Packager } from '../../core/packager/index.js';
import { newBroadcastId } from '../../core/storage/index.js';
import { RecordingStorage, usePackagerFixture } from './packager-support.js';

/**
 * Decision D16: no media object name is ever written twice, whatever the live state remembers. Every object is
 * cached `immutable` for a year, so a name written again would serve the old bytes from CDN and browser caches.
 * These tests drive the real packager (as the ingest opens it: one fresh broadcast per admitted connection)
 * through real storage and a real redis-server.
 */

let redis: Redis;
let storage: RecordingStorage;

const fixture = usePackagerFixture('mirror-broadcasts-', 2);
beforeAll(() => {
  redis = fixture.redis.client();
});
beforeEach(() => {
  storage = new RecordingStorage(new LocalDiskStorage(fixture.dir));
});

function feed(sink: RenditionSink, bytes: Uint8Array, chunk = 7919): void {
  for (let i = 0; i < bytes.byteLength; i += chunk)
    sink.write(bytes.subarray(i, Math.min(bytes.byteLength, i + chunk)));
}

/** One publish of `streamId`, as an ingest task runs it: a new packager, a fresh broadcast id. */
async function broadcast(
  streamId: string,
  live = new LiveState(redis),
  clock: () => number = Date.now,
): Promise<string[]> {
  const from = storage.puts.length;
  const packager = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500, clock });
  const sink = packager.open(streamId, '360p', { broadcast: newBroadcastId(Date.now()) });
  feed(sink, fixture.source);
  await sink.end();
  return storage.puts.slice(from);
}

/** Storage keys of every object the rendition's playlist names (segments, parts, maps, the hint). */
async function listedKeys(streamId: string, live = new LiveState(redis)): Promise<string[]> {
  const state = (await live.read(streamId))?.renditions.get('360p');
  if (state === undefined) throw new Error(`${streamId} is not live`);
  const text = renderMediaPlaylist(buildMediaPlaylist(state.timeline));
  const uris = [
    ...[...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
    ...text.split('\n').filter((line) => line !== '' && !line.startsWith('#')),
  ];
  const playlist = `https://cdn.example/${streamId}/360p/playlist.m3u8`;
  return uris.filter((u) => !u.endsWith('.m3u8')).map((u) => new URL(u, playlist).pathname.slice(1));
}

function writtenTwice(keys: readonly string[]): string[] {
  return keys.filter((k, i) => keys.indexOf(k) !== i);
}

describe('no media name is written twice (decision D16)', () => {
  it('a Redis flush between two broadcasts: the second writes and lists only names of its own', async () => {
    const first = await broadcast('flushed');
    await redis.flushall(); // the live state is gone, as after a Redis data loss
    const second = await broadcast('flushed');
    expect(first.length).toBeGreaterThan(20);
    expect(writtenTwice(storage.puts)).toEqual([]);
    const listed = await listedKeys('flushed');
    expect(listed.filter((k) => first.includes(k))).toEqual([]);
    // Everything the playlist names (but the preload hint) was written by this broadcast.
    expect(listed.slice(0, -1).every((k) => second.includes(k))).toBe(true);
  });

  it('a pause longer than the live-state TTL: the camera that comes back writes new names', async () => {
    const shortLived = new LiveState(redis, 1);
    const first = await broadcast('paused', shortLived);
    await new Promise((r) => setTimeout(r, 1100)); // the live state expires
    expect(await shortLived.read('paused')).toBeUndefined();
    await broadcast('paused', shortLived);
    expect(writtenTwice(storage.puts)).toEqual([]);
    expect((await listedKeys('paused', shortLived)).filter((k) => first.includes(k))).toEqual([]);
  });

  it('a stream deleted and created again with the same id lists none of the old stream’s objects', async () => {
    const registry = new StreamRegistry(redis);
    const input = {
      id: 'again',
      name: 'Again',
      ladder: 'tile',
      latency: 'low',
      encrypted: false,
      keyLength: 16,
    } as const;
    await registry.create(input);
    // Clocks as a camera would see them: the second broadcast starts after the first one's 2 s of media.
    const first = await broadcast('again', undefined, () => MSN_FLOOR_EPOCH_MS);
    const firstLastMsn = (await new LiveState(redis).read('again'))!.renditions
      .get('360p')!
      .timeline.segments.at(-1)!.msn;
    await registry.delete('again');
    await registry.create(input);
    await broadcast('again', undefined, () => MSN_FLOOR_EPOCH_MS + 3000);
    expect(writtenTwice(storage.puts)).toEqual([]);
    const listed = await listedKeys('again');
    expect(listed.filter((k) => first.includes(k))).toEqual([]);
    // A new timeline, not the old one resumed: no discontinuity carried over from the deleted stream, and numbers
    // from the wall-clock floor (decision D24), above every one the deleted stream used.
    const timeline = (await new LiveState(redis).read('again'))!.renditions.get('360p')!.timeline;
    expect(timeline.segments[0]).toMatchObject({ msn: 300, discontinuity: false });
    expect(timeline.segments[0]!.msn).toBeGreaterThan(firstLastMsn);
  });

  it('a reconnect while the live state lasts: earlier segments keep their names, every listed name is stored', async () => {
    const first = await broadcast('reconnected');
    const second = await broadcast('reconnected');
    expect(writtenTwice(storage.puts)).toEqual([]);
    const listed = await listedKeys('reconnected');
    const kept = listed.filter((k) => first.includes(k));
    expect(kept.length).toBeGreaterThan(0); // the window still shows the first broadcast's segments
    const hint = listed.at(-1)!;
    for (const key of listed) {
      if (key !== hint) expect(await storage.get(key), key).toBeDefined();
    }
    expect(listed.filter((k) => !first.includes(k) && k !== hint).every((k) => second.includes(k))).toBe(
      true,
    );
  });
});

describe('the broadcast log (mirror:broadcasts:{id}, no TTL)', () => {
  const input = { name: 'Log', ladder: 'tile', latency: 'low', encrypted: false, keyLength: 16 } as const;

  it('keeps the newest broadcasts first, capped, with their end; goes with the stream', async () => {
    const registry = new StreamRegistry(redis);
    await registry.create({ ...input, id: 'logged' });
    const log = new RedisBroadcastLog(redis, { limit: 3, taskId: 'task-1' });
    const ids = Array.from({ length: 4 }, (_, i) => newBroadcastId(Date.UTC(2026, 0, 1) + i));
    for (const id of ids) await log.started('logged', { id, startedAt: new Date().toISOString() });
    await log.ended('logged', ids[2]!, '2026-01-01T00:00:09.000Z');
    await log.ended('logged', ids[0]!, '2026-01-01T00:00:09.000Z'); // trimmed already: nothing to do
    const entries = await log.list('logged');
    expect(entries.map((e) => e.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(entries[1]).toMatchObject({ endedAt: '2026-01-01T00:00:09.000Z', taskId: 'task-1' });
    expect(entries[0]!.endedAt).toBeUndefined();
    expect(await redis.ttl('mirror:broadcasts:logged')).toBe(-1); // outlives the live state
    await registry.delete('logged');
    expect(await redis.exists('mirror:broadcasts:logged')).toBe(0);
  });

  it('records nothing for a stream that does not exist (a publish outliving its deletion)', async () => {
    const log = new RedisBroadcastLog(redis);
    await log.started('gone', { id: newBroadcastId(Date.now()), startedAt: new Date().toISOString() });
    await log.ended('gone', newBroadcastId(Date.now()), new Date().toISOString());
    expect(await redis.exists('mirror:broadcasts:gone')).toBe(0);
  });
});
