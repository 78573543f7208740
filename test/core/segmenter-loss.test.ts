import { describe, expect, it } from 'vitest';
import {
  buildMediaPlaylist,
  buildMultivariantPlaylist,
  forcedCloseS,
  type PartInput,
  renderMediaPlaylist,
  renderMultivariantPlaylist,
  Segmenter,
} from '../../core/hls/index.js';

const TIMESCALE = 90_000;
const PART_TICKS = 9_000; // 100 ms at 90 kHz
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const B = 'mh3k2x9a7q4f';
const B2 = 'mh3k4c1bx0z2';

const segmenter = () => new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: B });

/** Part `i` of a 100 ms-part feed, independent every `gop` parts (never when gop is 0). */
const part = (i: number, gop = 5): PartInput => ({
  baseDecodeTime: i * PART_TICKS,
  duration: PART_TICKS,
  timescale: TIMESCALE,
  independent: gop > 0 && i % gop === 0,
  bytes: 1000,
  initVersion: 1,
});

/** Offers parts from..to-1 as the packager does (admit, then place); returns what was placed. */
function offer(s: Segmenter, from: number, to: number, gop = 5) {
  const placed = [];
  for (let i = from; i < to; i++) {
    const input = part(i, gop);
    if (s.admit(input)) placed.push({ i, ...s.addPart(input, T0 + i * 100) });
  }
  return placed;
}

describe('segmenter: lost media (decision D21)', () => {
  it('a lost part is taken back, its segment closes at the last stored part, and parts wait for a keyframe', () => {
    const s = segmenter();
    const placed = offer(s, 0, 13); // segments 0, 1 complete; 2 open with parts 0..2
    const last = placed.at(-1)!;
    expect(last).toMatchObject({ msn: 2, part: 2 });
    const lost = s.lost(last);
    expect(lost.closed).toMatchObject({ msn: 2, partCount: 2 });
    expect(lost.discarded).toBeUndefined();
    expect(s.awaitingKeyframe).toBe(true);
    // 13 and 14 are not independent: dropped. 15 is: it starts msn 3 after a discontinuity.
    const after = offer(s, 13, 17);
    expect(after.map((p) => p.i)).toEqual([15, 16]);
    expect(after[0]).toMatchObject({ msn: 3, part: 0 });
    const t = s.timeline();
    expect(t.open).toMatchObject({ msn: 3, discontinuity: true });
    expect(t.segments.map((x) => x.partCount)).toEqual([5, 5, 2]);
    // The run's clock goes on: PROGRAM-DATE-TIME jumps over the hole instead of restarting at the arrival time.
    expect(t.open!.programDateTimeMs).toBe(T0 + 1500);
  });

  it('a lost part that opened its segment leaves no segment; its msn goes to the next one', () => {
    const s = segmenter();
    const placed = offer(s, 0, 11);
    const first = placed.at(-1)!;
    expect(first).toMatchObject({ msn: 2, part: 0, closed: { msn: 1 } });
    expect(s.lost(first)).toEqual({ discarded: 2 });
    s.useInit(1, B2);
    const after = offer(s, 11, 16);
    expect(after[0]).toMatchObject({ i: 15, msn: 2, part: 0 });
    // The reused msn is named under the other folder.
    expect(s.timeline().open).toMatchObject({ msn: 2, broadcast: B2, discontinuity: true });
    expect(s.timeline().segments.map((x) => x.msn)).toEqual([0, 1]);
  });

  it('only the last part placed can be taken back', () => {
    const s = segmenter();
    offer(s, 0, 3);
    expect(() => s.lost({ msn: 0, part: 1 })).toThrow(RangeError);
  });

  it('after a loss, input without keyframes resumes once a forced-close bound of media was dropped', () => {
    const s = segmenter();
    offer(s, 0, 3);
    s.lost();
    const bound = forcedCloseS(0.5);
    const after = offer(s, 3, 60, 0);
    expect(after[0]).toMatchObject({ i: 3 + Math.round(bound / 0.1), msn: 1, part: 0 });
    expect(s.timeline().segments[1]).toMatchObject({ msn: 1, discontinuity: true, dependentStart: true });
  });
});

describe('segmenter: forced close for input without keyframes (decision D21)', () => {
  it('closes at max(2 s, 2 x target) and marks the segments that do not start with a keyframe', () => {
    expect(forcedCloseS(0.5)).toBe(2);
    expect(forcedCloseS(2)).toBe(4);
    expect(forcedCloseS(8)).toBe(10); // capped where blocking reloads still fit CloudFront's 30 s
    const s = segmenter();
    offer(s, 0, 70, 0); // a keyframe at the very start only
    const t = s.timeline();
    expect(t.segments.map((x) => x.partCount)).toEqual([20, 20, 20]);
    expect(t.segments.map((x) => Boolean(x.dependentStart))).toEqual([true, true, true]);
    expect(t.targetDurationS).toBe(2);
    // Memory and live state stay bounded: the open segment never holds more than the bound's parts.
    expect(t.open!.parts.length).toBe(10);
  });

  it('keeps cutting at keyframes for a 2 s GOP (the bound is never met)', () => {
    const s = segmenter();
    offer(s, 0, 81, 20);
    const t = s.timeline();
    expect(t.segments.map((x) => x.partCount)).toEqual([20, 20, 20, 20]);
    expect(t.segments.some((x) => x.dependentStart)).toBe(false);
  });

  it('renders no INDEPENDENT=YES where a forced segment starts, and drops EXT-X-INDEPENDENT-SEGMENTS', () => {
    const s = segmenter();
    const input = part(0, 0);
    s.addPart({ ...input, independent: true }, T0);
    offer(s, 1, 45, 0);
    const timeline = s.timeline();
    const media = renderMediaPlaylist(buildMediaPlaylist(timeline));
    expect(media.match(/INDEPENDENT=YES/g)).toHaveLength(1);
    expect(media).toContain(`#EXT-X-PART:DURATION=0.100,URI="${B}/part-1-0.m4s"\n`);
    const info = { codecs: ['avc1.64001f'] };
    expect(
      renderMultivariantPlaylist(buildMultivariantPlaylist([{ name: 'source', info, timeline }])),
    ).not.toContain('EXT-X-INDEPENDENT-SEGMENTS');
    const keyframed = segmenter();
    offer(keyframed, 0, 30);
    expect(
      renderMultivariantPlaylist(
        buildMultivariantPlaylist([{ name: 'source', info, timeline: keyframed.timeline() }]),
      ),
    ).toContain('EXT-X-INDEPENDENT-SEGMENTS');
  });
});
