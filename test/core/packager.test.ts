import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { Packager, type PartPublished } from '../../core/packager/index.js';
import { mediaKeys } from '../../core/storage/index.js';
import { ffprobeFrames } from '../support/media.js';
import { epochClock, usePackagerFixture } from './packager-support.js';

/** Broadcast ids (decision D16), as the ingest names them at each admitted connection. */
const B = 'mh3k2x9a7q4f';
const B2 = 'mh3k4c1bx0z2';

let live: LiveState;
let storage: LocalDiskStorage;

const fixture = usePackagerFixture('mirror-packager-', 3);
beforeAll(() => {
  live = new LiveState(fixture.redis.client());
  storage = new LocalDiskStorage(fixture.dir);
});

/** Feeds bytes in uneven chunks, as a pipe delivers them. */
function feed(sink: { write(c: Uint8Array): void }, bytes: Uint8Array, chunk = 7919): void {
  for (let i = 0; i < bytes.byteLength; i += chunk)
    sink.write(bytes.subarray(i, Math.min(bytes.byteLength, i + chunk)));
}

describe('packager', () => {
  it('stores init, parts and segments, and publishes the timeline after the bytes', async () => {
    const publishedKeys: string[] = [];
    const checkingLive = {
      read: live.read.bind(live),
      publish: async (...args: Parameters<LiveState['publish']>) => {
        const [streamId, rendition, state, at] = args;
        // Bytes first: the part named by this publish must already be stored.
        const key = mediaKeys.part(streamId, rendition, state.timeline.broadcast, at.msn, at.part);
        if ((await storage.get(key)) === undefined) throw new Error(`published ${key} before storing it`);
        publishedKeys.push(key);
        return live.publish(...args);
      },
    };
    const packager = new Packager({
      storage,
      live: checkingLive,
      partTargetMs: 100,
      segmentTargetMs: 500,
      clock: epochClock(), // numbers from 0 (decision D24)
    });
    const sink = packager.open('pk-1', '360p', { broadcast: B });
    feed(sink, fixture.source);
    await sink.end();
    expect(publishedKeys.length).toBeGreaterThanOrEqual(30);
    const snapshot = await live.read('pk-1');
    const state = snapshot!.renditions.get('360p')!;
    expect(state.info).toMatchObject({ width: 320, height: 240, frameRate: 30 });
    expect(state.info.codecs[1]).toBe('mp4a.40.2');
    expect(state.timeline.segments.map((s) => s.msn)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(state.timeline.ended).toBe(true);
    expect(state.timeline.broadcast).toBe(B);
    expect(await storage.get(mediaKeys.init('pk-1', '360p', B, 1))).toBeDefined();
  });

  it('reports one publish latency per published part, measured after the live-state publish completes', async () => {
    const PUBLISH_DELAY_MS = 25;
    const partPublishes: string[] = [];
    const slowLive = {
      read: live.read.bind(live),
      publish: async (...args: Parameters<LiveState['publish']>) => {
        const [, , state, at] = args;
        if (!state.timeline.ended) partPublishes.push(`${at.msn}.${at.part}`);
        await new Promise((r) => setTimeout(r, PUBLISH_DELAY_MS));
        return live.publish(...args);
      },
    };
    const events: PartPublished[] = [];
    const packager = new Packager({
      storage,
      live: slowLive,
      partTargetMs: 100,
      segmentTargetMs: 500,
      onPublish: (e) => events.push(e),
    });
    const sink = packager.open('pk-lat', '360p');
    feed(sink, fixture.source);
    await sink.end();
    expect(partPublishes.length).toBeGreaterThanOrEqual(30);
    // One event per part, none for the final "ended" publish, in publish order.
    expect(events.map((e) => `${e.msn}.${e.part}`)).toEqual(partPublishes);
    for (const e of events) {
      expect(e).toMatchObject({ streamId: 'pk-lat', rendition: '360p' });
      // Includes the publish itself (and storing the part), so at least the injected delay.
      expect(e.publishedAtMs - e.arrivedAtMs).toBeGreaterThanOrEqual(PUBLISH_DELAY_MS - 1);
    }
  });

  it('segments concatenated from init + parts and stored segments pass ffprobe with an IDR first', async () => {
    const packager = new Packager({
      storage,
      live,
      partTargetMs: 100,
      segmentTargetMs: 500,
      clock: epochClock(),
    });
    const sink = packager.open('pk-2', '360p', { broadcast: B });
    feed(sink, fixture.source, 65536);
    await sink.end();
    const init = (await storage.get(mediaKeys.init('pk-2', '360p', B, 1)))!;
    const parts = [];
    for (let p = 0; p < 5; p++) parts.push((await storage.get(mediaKeys.part('pk-2', '360p', B, 2, p)))!);
    const fromParts = Buffer.concat([init, ...parts]);
    const segment = (await storage.get(mediaKeys.segment('pk-2', '360p', B, 2)))!;
    expect(Buffer.concat(parts).equals(Buffer.from(segment))).toBe(true);
    const file = join(fixture.dir, 'seg2.mp4');
    await writeFile(file, fromParts);
    const frames = await ffprobeFrames(file);
    expect(frames).toHaveLength(15);
    expect(frames[0]).toMatchObject({ pict_type: 'I', key_frame: 1 });
    expect(frames.slice(1).every((f) => f.key_frame === 0)).toBe(true);
    expect((await readFile(file)).byteLength).toBe(fromParts.byteLength);
  });

  it('restart() gives a new init version and a discontinuity, in the same broadcast', async () => {
    const packager = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 });
    const sink = packager.open('pk-3', '360p', { broadcast: B });
    feed(sink, fixture.source.subarray(0, Math.floor(fixture.source.byteLength / 2)));
    sink.restart();
    feed(sink, fixture.source);
    await sink.end();
    const state = (await live.read('pk-3'))!.renditions.get('360p')!;
    expect(await storage.get(mediaKeys.init('pk-3', '360p', B, 2))).toBeDefined();
    const restarted = state.timeline.segments.find((s) => s.initVersion === 2)!;
    expect(restarted).toMatchObject({ discontinuity: true, broadcast: B });
    expect(state.timeline.segments.filter((s) => s.discontinuity)).toHaveLength(1);
  });

  it('restart() with a new broadcast (a reconnect) writes to its folder from init-1, after a discontinuity', async () => {
    const packager = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 });
    const sink = packager.open('pk-3b', '360p', { broadcast: B });
    feed(sink, fixture.source.subarray(0, Math.floor(fixture.source.byteLength / 2)));
    sink.restart({ broadcast: B2 });
    feed(sink, fixture.source);
    await sink.end();
    const { timeline } = (await live.read('pk-3b'))!.renditions.get('360p')!;
    expect(timeline.broadcast).toBe(B2);
    const first = timeline.segments.findIndex((s) => s.broadcast === B2);
    expect(timeline.segments[first]).toMatchObject({ discontinuity: true, initVersion: 1 });
    expect(timeline.segments.slice(0, first).every((s) => s.broadcast === B)).toBe(true);
    expect(await storage.get(mediaKeys.init('pk-3b', '360p', B2, 1))).toBeDefined();
    // Every listed segment is stored under its own broadcast, the one cut short by the reconnect included.
    for (const s of timeline.segments) {
      expect(await storage.get(mediaKeys.segment('pk-3b', '360p', s.broadcast, s.msn))).toBeDefined();
    }
  });

  it('malformed input stops only its own rendition', async () => {
    const packager = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 });
    const good = packager.open('pk-4', '360p');
    const bad = packager.open('pk-4', '720p');
    const corrupt = new Uint8Array(fixture.source);
    new DataView(corrupt.buffer).setUint32(0, 0xfffffff0); // absurd ftyp size
    feed(bad, corrupt);
    feed(good, fixture.source);
    await Promise.all([good.end(), bad.end()]);
    const snapshot = (await live.read('pk-4'))!;
    expect(snapshot.renditions.get('360p')!.timeline.segments.length).toBe(6);
    expect(snapshot.renditions.get('720p')?.timeline.segments.length ?? 0).toBe(0);
  });

  it('a new packager process for the same rendition carries on its numbering after a discontinuity', async () => {
    const first = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 }).open(
      'pk-5',
      '360p',
      { broadcast: B },
    );
    feed(first, fixture.source.subarray(0, Math.floor(fixture.source.byteLength / 2)));
    await new Promise((r) => setTimeout(r, 200)); // the process dies without end()
    const before = (await live.read('pk-5'))!.renditions.get('360p')!.timeline;
    const second = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 }).open(
      'pk-5',
      '360p',
      { broadcast: B2 },
    );
    feed(second, fixture.source);
    await second.end();
    const after = (await live.read('pk-5'))!.renditions.get('360p')!.timeline;
    const resumedAt = before.open!.msn + 1;
    // The new process is a new broadcast: its init versions start at 1 in its own folder.
    expect(after.segments.find((s) => s.msn === resumedAt)).toMatchObject({
      discontinuity: true,
      broadcast: B2,
      initVersion: 1,
    });
    // The segment the dead process left open is rebuilt in that process's broadcast.
    expect(after.segments.find((s) => s.msn === before.open!.msn)?.broadcast).toBe(B);
    expect(await storage.get(mediaKeys.segment('pk-5', '360p', B, before.open!.msn))).toBeDefined();
  });
});
