import { describe, expect, it } from 'vitest';
import { Segmenter } from '../../core/hls/index.js';

const TIMESCALE = 90_000;
const PART_TICKS = 9_000; // 100 ms at 90 kHz
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Two broadcasts (encoder connections) of one stream, decision D16. */
const B1 = 'mh3k2x9a7q4f';
const B2 = 'mh3k4c1bx0z2';

/** Feeds `count` 100 ms parts, independent every `gop` parts, starting at decode tick `start`. */
function feed(
  s: Segmenter,
  count: number,
  opts: { start?: number; gop?: number; initVersion?: number; now?: number } = {},
) {
  const gop = opts.gop ?? 5;
  const placements = [];
  for (let i = 0; i < count; i++) {
    placements.push(
      s.addPart(
        {
          baseDecodeTime: (opts.start ?? 0) + i * PART_TICKS,
          duration: PART_TICKS,
          timescale: TIMESCALE,
          independent: i % gop === 0,
          bytes: 1000,
          initVersion: opts.initVersion ?? 1,
        },
        (opts.now ?? T0) + i * 100,
      ),
    );
  }
  return placements;
}

describe('segmenter', () => {
  it('starts a new segment at an independent part once the segment target is reached', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    const placed = feed(s, 12);
    expect(placed.map((p) => `${p.msn}-${p.part}`)).toEqual([
      '0-0',
      '0-1',
      '0-2',
      '0-3',
      '0-4',
      '1-0',
      '1-1',
      '1-2',
      '1-3',
      '1-4',
      '2-0',
      '2-1',
    ]);
    expect(placed[5]!.closed).toMatchObject({ msn: 0, partCount: 5, bytes: 5000 });
    expect(placed[5]!.closed!.durationS).toBeCloseTo(0.5);
  });

  it('keeps a segment open past the target until an independent part arrives', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    const placed = feed(s, 9, { gop: 8 });
    expect(placed[7]!.msn).toBe(0);
    expect(placed[8]).toMatchObject({ msn: 1, part: 0 });
  });

  it('marks INDEPENDENT parts', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 7);
    expect(s.timeline().open!.parts.map((p) => p.independent)).toEqual([true, false]);
  });

  it('stamps PROGRAM-DATE-TIME from the wall-clock anchor taken at the first part', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    // Parts arrive late (wall clock runs ahead), but PDT follows media time from the anchor.
    for (let i = 0; i < 10; i++) {
      s.addPart(
        {
          baseDecodeTime: i * PART_TICKS,
          duration: PART_TICKS,
          timescale: TIMESCALE,
          independent: i % 5 === 0,
          bytes: 1,
          initVersion: 1,
        },
        T0 + i * 250,
      );
    }
    expect(s.timeline().segments[0]!.programDateTimeMs).toBe(T0);
    expect(s.timeline().open!.programDateTimeMs).toBe(T0 + 500);
  });

  it('produces a DISCONTINUITY on a source restart and re-anchors the wall clock', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 7);
    s.restart(2);
    const placed = feed(s, 3, { initVersion: 2, now: T0 + 60_000 });
    expect(placed[0]).toMatchObject({ msn: 2, part: 0 });
    const t = s.timeline();
    expect(t.open).toMatchObject({ discontinuity: true, initVersion: 2, programDateTimeMs: T0 + 60_000 });
    // The segment cut short by the restart is closed with the parts it had.
    expect(t.segments[1]).toMatchObject({ msn: 1, partCount: 2 });
  });

  it('stamps PROGRAM-DATE-TIME from the ingest anchor, not the arrival at the packager, across a restart', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    // The run's media time zero happened at ingest at T0; its output starts 0.4 s in (a passthrough starting at
    // its first keyframe); the parts reach the packager about 1.2 s later (probing and encoding).
    s.setIngestAnchor(T0);
    feed(s, 7, { start: 0.4 * TIMESCALE, now: T0 + 1200 });
    let t = s.timeline();
    expect(t.segments[0]!.programDateTimeMs).toBe(T0 + 400);
    expect(t.open!.programDateTimeMs).toBe(T0 + 900); // PDT = anchor + decodeTime

    // The restarted run starts again near decode time 0; its first input arrived at ingest at T0 + 60 s.
    s.restart(2);
    s.setIngestAnchor(T0 + 60_000);
    feed(s, 6, { start: 0, initVersion: 2, now: T0 + 61_300 });
    t = s.timeline();
    expect(t.segments.at(-1)).toMatchObject({ discontinuity: true, programDateTimeMs: T0 + 60_000 });
    expect(t.open!.programDateTimeMs).toBe(T0 + 60_500);

    // A restart without an anchor (a producer that has none) falls back to the arrival at the packager.
    s.restart(3);
    feed(s, 2, { start: 0, initVersion: 3, now: T0 + 90_000 });
    expect(s.timeline().open).toMatchObject({ discontinuity: true, programDateTimeMs: T0 + 90_000 });
  });

  it('anchors a producer whose timestamps do not start near zero at its first part', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    s.setIngestAnchor(T0);
    feed(s, 7, { start: 3600 * TIMESCALE, now: T0 + 1200 });
    expect(s.timeline().segments[0]!.programDateTimeMs).toBe(T0);
  });

  it('carries the ingest clock on across a timestamp jump within one run', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    s.setIngestAnchor(T0);
    feed(s, 5, { now: T0 + 1000 });
    feed(s, 3, { start: 100 * TIMESCALE, now: T0 + 9000 });
    expect(s.timeline().open).toMatchObject({ msn: 1, discontinuity: true, programDateTimeMs: T0 + 500 });
  });

  it('produces a DISCONTINUITY on a timestamp jump', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 5);
    feed(s, 3, { start: 100 * TIMESCALE });
    expect(s.timeline().open).toMatchObject({ msn: 1, discontinuity: true });
  });

  it('bounds the window and keeps DISCONTINUITY-SEQUENCE right as segments leave it', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, windowSegments: 4, broadcast: B1 });
    feed(s, 10); // segments 0, 1 (open)
    s.restart(2);
    feed(s, 10, { initVersion: 2 }); // discontinuity before segment 2
    s.restart(3);
    feed(s, 30, { initVersion: 3 }); // discontinuity before segment 4
    const t = s.timeline();
    expect(t.segments.map((x) => x.msn)).toEqual([5, 6, 7, 8]);
    expect(t.mediaSequence).toBe(5);
    // Both discontinuities (before 2 and before 4) have left the window.
    expect(t.discontinuitySequence).toBe(2);
  });

  it('keeps parts only on segments starting within 3 target durations of the end', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 40);
    const t = s.timeline();
    const withParts = t.segments.filter((x) => x.parts !== undefined).map((x) => x.msn);
    expect(withParts).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('raises PART-TARGET to the longest part seen, and TARGETDURATION to the longest segment rounded', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 30, { gop: 15 });
    s.addPart(
      {
        baseDecodeTime: 30 * PART_TICKS,
        duration: 12_000,
        timescale: TIMESCALE,
        independent: true,
        bytes: 1,
        initVersion: 1,
      },
      T0,
    );
    const t = s.timeline();
    expect(t.partTargetS).toBeCloseTo(12_000 / TIMESCALE);
    expect(t.targetDurationS).toBe(2);
  });

  it('a reconnect starts a new broadcast: its parts open a segment in its folder after a DISCONTINUITY', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 7);
    s.restart(1, B2); // init versions count within a broadcast
    feed(s, 3, { initVersion: 1 });
    const t = s.timeline();
    expect(t.broadcast).toBe(B2);
    expect(t.segments.map((x) => [x.msn, x.broadcast])).toEqual([
      [0, B1],
      [1, B1],
    ]);
    expect(t.open).toMatchObject({ msn: 2, broadcast: B2, initVersion: 1, discontinuity: true });
  });

  it('an ffmpeg restart within one connection keeps the broadcast', () => {
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(s, 7);
    s.restart(2);
    feed(s, 3, { initVersion: 2 });
    expect(s.timeline()).toMatchObject({ broadcast: B1, open: { broadcast: B1, initVersion: 2 } });
  });

  it('resuming an earlier process keeps its segments under their broadcast and continues in the new one', () => {
    const before = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B1 });
    feed(before, 12); // segments 0, 1; segment 2 open with 2 parts
    const s = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B2 });
    s.resume(before.timeline(), 0);
    feed(s, 3, { start: 50 * PART_TICKS });
    const t = s.timeline();
    expect(t.segments.map((x) => [x.msn, x.broadcast])).toEqual([
      [0, B1],
      [1, B1],
      [2, B1], // the segment the earlier process left open
    ]);
    expect(t.open).toMatchObject({ msn: 3, broadcast: B2, discontinuity: true });
  });
});
