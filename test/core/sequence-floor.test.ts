import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { parseMediaPath } from '../../core/contracts/names.js';
import {
  blockingRequestError,
  MIN_PART_TARGET_MS,
  MSN_FLOOR_EPOCH_MS,
  MSN_FLOOR_STEP_MS,
  msnFloor,
  nextPart,
  parseDirectives,
  type RenditionTimeline,
  Segmenter,
  sequenceFloor,
} from '../../core/hls/index.js';
import { Packager } from '../../core/packager/index.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { RecordingStorage, usePackagerFixture } from './packager-support.js';

/**
 * Decision D24: a timeline with no live state to continue from starts at a wall-clock floor, so a stream's media
 * sequence numbers are never used twice, whatever happened to the live state between two broadcasts.
 */

const B1 = 'mh3k2x9a7q4f';

describe('msnFloor', () => {
  it('counts steps of MSN_FLOOR_STEP_MS from the epoch, never below 0', () => {
    expect(msnFloor(MSN_FLOOR_EPOCH_MS)).toBe(0);
    expect(msnFloor(MSN_FLOOR_EPOCH_MS + MSN_FLOOR_STEP_MS - 1)).toBe(0);
    expect(msnFloor(MSN_FLOOR_EPOCH_MS + MSN_FLOOR_STEP_MS)).toBe(1);
    expect(msnFloor(MSN_FLOOR_EPOCH_MS - 86_400_000)).toBe(0);
    expect(msnFloor(Date.UTC(2026, 11, 1))).toBe(334 * 86_400 * 100); // 334 days of 100 steps a second;
  });

  it('numbers of the year 2200 are still names and canonical directives', () => {
    const msn = msnFloor(Date.UTC(2200, 0, 1));
    expect(String(msn)).toHaveLength(12);
    expect(parseMediaPath(`/s/360p/${B1}/part-${msn}-4.m4s`)).toMatchObject({ kind: 'part', msn, part: 4 });
    expect(parseDirectives({ _HLS_msn: String(msn), _HLS_part: '4' })).toEqual({ msn, part: 4, skip: false });
  });

  it('the fastest steady timeline (34 ms segments of one part, in real time) never reaches the floor', () => {
    const t0 = Date.UTC(2026, 5, 1, 12, 0, 0, 7);
    const s = new Segmenter({
      partTargetMs: MIN_PART_TARGET_MS,
      segmentTargetMs: MIN_PART_TARGET_MS,
      broadcast: B1,
      startAt: sequenceFloor(t0),
    });
    const ticks = MIN_PART_TARGET_MS * 90; // 90 kHz
    for (let i = 0; i < 20_000; i++) {
      const now = t0 + (i + 1) * MIN_PART_TARGET_MS; // the part's last frame has arrived
      const placed = s.addPart(
        {
          baseDecodeTime: i * ticks,
          duration: ticks,
          timescale: 90_000,
          independent: true,
          bytes: 1,
          initVersion: 1,
        },
        now,
      );
      expect(placed.msn).toBeLessThanOrEqual(msnFloor(now));
    }
    // 11 minutes later the floor leads by about 70 a second.
    expect(msnFloor(t0 + 20_000 * MIN_PART_TARGET_MS) - s.timeline().open!.msn).toBeGreaterThan(40_000);
  });
});

describe('segmenter started at a floor', () => {
  const start = sequenceFloor(Date.UTC(2026, 11, 1));
  const startAt = start.msn;

  it('numbers its first segment and DISCONTINUITY-SEQUENCE from it, without a discontinuity', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1, startAt: start });
    const empty = s.timeline();
    expect(start.discontinuity).toBe(334);
    expect(empty).toMatchObject({ mediaSequence: startAt, discontinuitySequence: 334 });
    expect(nextPart(empty)).toEqual({ msn: startAt, part: 0 });
    // A blocking request for the first part may wait; three beyond it is refused as before.
    expect(blockingRequestError(empty, startAt, 0)).toBeUndefined();
    expect(blockingRequestError(empty, startAt + 2, undefined)).toMatchObject({ field: '_HLS_msn' });
    for (let i = 0; i < 12; i++) {
      s.addPart(
        {
          baseDecodeTime: i * 9000,
          duration: 9000,
          timescale: 90_000,
          independent: i % 5 === 0,
          bytes: 1,
          initVersion: 1,
        },
        0,
      );
    }
    const t: RenditionTimeline = s.timeline();
    expect(t.segments.map((x) => [x.msn, x.discontinuity])).toEqual([
      [startAt, false],
      [startAt + 1, false],
    ]);
    expect(t.open?.msn).toBe(startAt + 2);
    expect(blockingRequestError(t, startAt + 5, undefined)).toMatchObject({ field: '_HLS_msn' });
    // A producer restart after parts were placed is a discontinuity, as it was from 0.
    s.restart(2);
    const after = s.addPart(
      { baseDecodeTime: 0, duration: 9000, timescale: 90_000, independent: true, bytes: 1, initVersion: 2 },
      0,
    );
    expect(after.msn).toBe(startAt + 3);
    expect(s.timeline().open?.discontinuity).toBe(true);
  });

  it('refuses a start that is not a safe non-negative integer', () => {
    expect(
      () =>
        new Segmenter({
          partTargetMs: 100,
          segmentTargetMs: 500,
          broadcast: B1,
          startAt: { msn: -1, discontinuity: 0 },
        }),
    ).toThrow(RangeError);
  });
});

let redis: Redis;

const fixture = usePackagerFixture('mirror-msn-floor-', 2);
beforeAll(() => {
  redis = fixture.redis.client();
});

/** One broadcast of `streamId` through a new packager (a new ingest process); returns its last timeline. */
async function broadcast(
  storage: MediaStorage,
  streamId: string,
  broadcastId: string,
  clock: () => number,
  live = new LiveState(redis),
): Promise<RenditionTimeline> {
  const sink = new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500, clock }).open(
    streamId,
    '360p',
    { broadcast: broadcastId },
  );
  for (let i = 0; i < fixture.source.byteLength; i += 7919) sink.write(fixture.source.subarray(i, i + 7919));
  await sink.end();
  return (await live.read(streamId))!.renditions.get('360p')!.timeline;
}

/** (msn, part) and (msn) pairs of the segment and part objects written, each with every folder it was written in. */
function namesByNumber(keys: readonly string[]): Map<string, Set<string>> {
  const byNumber = new Map<string, Set<string>>();
  for (const key of keys) {
    const path = parseMediaPath(key);
    if (path === undefined || path.kind === 'init') continue;
    const number = path.kind === 'part' ? `part ${path.msn}.${path.part}` : `seg ${path.msn}`;
    byNumber.set(number, (byNumber.get(number) ?? new Set()).add(path.broadcast));
  }
  return byNumber;
}

const reused = (keys: readonly string[]) =>
  [...namesByNumber(keys)].filter(([, folders]) => folders.size > 1);

describe('two broadcasts of one stream with the live state gone in between', () => {
  it('after a Redis flush the second numbers above the first: no (msn, part) names two objects', async () => {
    const storage = new RecordingStorage(new LocalDiskStorage(fixture.dir));
    // The camera's clock: the second broadcast starts after the first one's 2 s of media.
    const first = await broadcast(storage, 'floor-flush', 'mh3k2x9a0001', () => MSN_FLOOR_EPOCH_MS);
    await redis.flushall();
    const second = await broadcast(storage, 'floor-flush', 'mh3k2x9a0002', () => MSN_FLOOR_EPOCH_MS + 2500);
    expect(first.segments[0]!.msn).toBe(0);
    expect(second.segments[0]).toMatchObject({ msn: 250, discontinuity: false });
    expect(second.segments[0]!.msn).toBeGreaterThan(first.segments.at(-1)!.msn);
    // The same day: DISCONTINUITY-SEQUENCE stays (its floor counts days), it never goes back.
    expect(second.discontinuitySequence).toBe(first.discontinuitySequence);
    await redis.flushall();
    const dayLater = MSN_FLOOR_EPOCH_MS + 86_400_000 + 5000;
    const third = await broadcast(storage, 'floor-flush', 'mh3k2x9a0007', () => dayLater);
    expect(third.segments[0]!.msn).toBe(8_640_500);
    expect(third.discontinuitySequence).toBe(second.discontinuitySequence + 1);
    expect(namesByNumber(storage.puts).size).toBeGreaterThan(30);
    expect(reused(storage.puts)).toEqual([]);
  });

  it('after the live state expired (TTL), with the real clock: numbers still go up', async () => {
    const storage = new RecordingStorage(new LocalDiskStorage(fixture.dir));
    const live = new LiveState(redis, 1);
    const first = await broadcast(storage, 'floor-ttl', 'mh3k2x9a0003', Date.now, live);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await live.read('floor-ttl')).toBeUndefined();
    const second = await broadcast(storage, 'floor-ttl', 'mh3k2x9a0004', Date.now, live);
    expect(second.segments[0]!.msn).toBeGreaterThan(first.segments.at(-1)!.msn);
    expect(second.discontinuitySequence).toBeGreaterThanOrEqual(first.discontinuitySequence);
    expect(reused(storage.puts)).toEqual([]);
  });

  it('within the TTL a new process continues the numbering, whatever the floor says', async () => {
    const storage = new RecordingStorage(new LocalDiskStorage(fixture.dir));
    const first = await broadcast(storage, 'floor-resume', 'mh3k2x9a0005', () => MSN_FLOOR_EPOCH_MS);
    const second = await broadcast(
      storage,
      'floor-resume',
      'mh3k2x9a0006',
      () => MSN_FLOOR_EPOCH_MS + 60_000,
    );
    const resumed = second.segments.find((s) => s.broadcast === 'mh3k2x9a0006')!;
    expect(resumed).toMatchObject({ msn: first.segments.at(-1)!.msn + 1, discontinuity: true });
    expect(second.discontinuitySequence).toBe(first.discontinuitySequence);
    expect(reused(storage.puts)).toEqual([]);
  });

  it('after the live state expired, DISCONTINUITY-SEQUENCE continues above the last timeline, even the same day', async () => {
    const storage = new RecordingStorage(new LocalDiskStorage(fixture.dir));
    const live = new LiveState(redis, 1);
    // The first timeline has discontinuities (two producer restarts), so its last segment's count is above the
    // day's floor: a second timeline started at the floor would go back, and hls.js would stall on it.
    const sink = new Packager({
      storage,
      live,
      partTargetMs: 100,
      segmentTargetMs: 500,
      clock: Date.now,
    }).open('floor-cc', '360p', { broadcast: 'mh3k2x9a0008' });
    for (let run = 0; run < 3; run++) {
      if (run > 0) sink.restart({ broadcast: 'mh3k2x9a0008' });
      for (let i = 0; i < fixture.source.byteLength; i += 7919)
        sink.write(fixture.source.subarray(i, i + 7919));
    }
    await sink.end();
    const first = (await live.read('floor-cc'))!.renditions.get('360p')!.timeline;
    const firstLastCc = first.discontinuitySequence + first.segments.filter((x) => x.discontinuity).length;
    expect(firstLastCc).toBeGreaterThan(first.discontinuitySequence);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await live.read('floor-cc')).toBeUndefined();
    const second = await broadcast(storage, 'floor-cc', 'mh3k2x9a0009', Date.now, live);
    expect(second.discontinuitySequence).toBeGreaterThan(firstLastCc);
    expect(second.segments[0]!.msn).toBeGreaterThan(first.segments.at(-1)!.msn);
    expect(reused(storage.puts)).toEqual([]);
  });
});
