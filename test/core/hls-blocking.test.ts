import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MediaPath } from '../../core/contracts/names.js';
import {
  blockingTimeoutMs,
  holdFor,
  type OpenSegmentEntry,
  parseDirectives,
  published,
  type RenditionTimeline,
  type SegmentEntry,
} from '../../core/hls/index.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const PART = { durationS: 0.1, independent: false, bytes: 1000 };
/** The current broadcast of the timeline below, and one that ended before it (decision D16). */
const CURRENT = 'mh3k4c1bx0z2';
const EARLIER = 'mh3k2x9a7q4f';

const segment = (msn: number, broadcast = CURRENT): SegmentEntry => ({
  msn,
  broadcast,
  durationS: 0.5,
  programDateTimeMs: T0 + msn * 500,
  discontinuity: false,
  initVersion: 1,
  bytes: 5000,
  partCount: 5,
});
const open = (msn: number, parts: number): OpenSegmentEntry => ({
  msn,
  broadcast: CURRENT,
  programDateTimeMs: T0 + msn * 500,
  discontinuity: false,
  initVersion: 1,
  parts: Array.from({ length: parts }, () => PART),
});

/** 100 ms parts in 500 ms segments: segments 0 and 1 complete (5 parts each), segment 2 open with 2 parts. */
function timeline(overrides: Partial<RenditionTimeline> = {}): RenditionTimeline {
  return {
    partTargetS: 0.1,
    targetDurationS: 1,
    segmentTargetS: 0.5,
    mediaSequence: 0,
    discontinuitySequence: 0,
    segments: [segment(0), segment(1)],
    open: open(2, 2),
    broadcast: CURRENT,
    initVersion: 1,
    ended: false,
    ...overrides,
  };
}

const at = (kind: 'init' | 'segment' | 'part', a: number, b = 0, broadcast = CURRENT): MediaPath => {
  const where = { streamId: 'cam-1', rendition: '360p', broadcast };
  if (kind === 'init') return { kind, ...where, version: a };
  if (kind === 'segment') return { kind, ...where, msn: a };
  return { kind, ...where, msn: a, part: b };
};

describe('delivery directives (_HLS_msn, _HLS_part, _HLS_skip)', () => {
  it('reads canonical values', () => {
    expect(parseDirectives({})).toEqual({ skip: false });
    expect(parseDirectives({ _HLS_msn: '12' })).toEqual({ msn: 12, skip: false });
    expect(parseDirectives({ _HLS_msn: '12', _HLS_part: '0' })).toEqual({ msn: 12, part: 0, skip: false });
    expect(parseDirectives({ _HLS_skip: 'YES' })).toEqual({ skip: true });
    expect(parseDirectives({ _HLS_skip: 'v2' })).toEqual({ skip: true });
  });

  it('reads back every non-negative integer of up to 15 digits', () => {
    const n = fc.integer({ min: 0, max: 10 ** 15 - 1 });
    fc.assert(
      fc.property(n, n, (msn, part) => {
        expect(parseDirectives({ _HLS_msn: String(msn), _HLS_part: String(part) })).toEqual({
          msn,
          part,
          skip: false,
        });
      }),
    );
  });

  it.each([
    [{ _HLS_msn: 'abc' }, '_HLS_msn'],
    [{ _HLS_msn: '-1' }, '_HLS_msn'],
    [{ _HLS_msn: '+1' }, '_HLS_msn'],
    [{ _HLS_msn: '1e3' }, '_HLS_msn'],
    [{ _HLS_msn: '' }, '_HLS_msn'],
    [{ _HLS_msn: '1'.repeat(16) }, '_HLS_msn'], // beyond a safe integer's digits
    [{ _HLS_msn: '1', _HLS_part: '1.5' }, '_HLS_part'],
    [{ _HLS_msn: '1', _HLS_part: ' 1' }, '_HLS_part'],
    [{ _HLS_part: '1' }, '_HLS_part'], // a part needs its segment
    [{ _HLS_skip: 'NO' }, '_HLS_skip'],
    [{ _HLS_skip: 'yes' }, '_HLS_skip'],
    [{ _HLS_skip: 'v1' }, '_HLS_skip'],
    [{ _HLS_skip: '' }, '_HLS_skip'],
    // Canonical form only: every other spelling of a number would be another CloudFront cache key.
    [{ _HLS_msn: '007' }, '_HLS_msn'],
    [{ _HLS_msn: '00' }, '_HLS_msn'],
    [{ _HLS_msn: '12 ' }, '_HLS_msn'],
    [{ _HLS_msn: '１２' }, '_HLS_msn'], // full-width digits
    [{ _HLS_msn: '12', _HLS_part: '01' }, '_HLS_part'],
    [{ _HLS_msn: '12', _HLS_part: '-0' }, '_HLS_part'],
  ])('refuses %o, naming %s', (query, field) => {
    const parsed = parseDirectives(query);
    expect(parsed).toMatchObject({ field });
    expect('error' in parsed && parsed.error).toContain(field);
  });

  it('refuses every zero-padded spelling of a number, so one playlist position has one cache key', () => {
    const n = fc.integer({ min: 0, max: 10 ** 12 });
    fc.assert(
      fc.property(n, fc.integer({ min: 1, max: 3 }), (value, zeros) => {
        const padded = '0'.repeat(zeros) + String(value);
        expect(parseDirectives({ _HLS_msn: padded })).toMatchObject({ field: '_HLS_msn' });
        expect(parseDirectives({ _HLS_msn: '1', _HLS_part: padded })).toMatchObject({ field: '_HLS_part' });
      }),
    );
  });

  it('keeps an over-long refused value out of the message', () => {
    const parsed = parseDirectives({ _HLS_msn: '0'.repeat(5000) });
    expect('error' in parsed && parsed.error.length).toBeLessThan(200);
  });
});

describe('blocking playlist timeout', () => {
  it('is about three target durations (spec: 503 after "about three")', () => {
    expect(blockingTimeoutMs(timeline({ targetDurationS: 2 }))).toBe(6000);
  });
});

describe('published: is a media object named in the live state', () => {
  const t = timeline();
  it.each([
    [at('init', 1), true],
    [at('init', 2), false],
    [at('segment', 0), true],
    [at('segment', 1), true],
    [at('segment', 2), false], // still open
    [at('part', 1, 4), true],
    [at('part', 1, 5), false], // beyond the segment's 5 parts
    [at('part', 2, 1), true],
    [at('part', 2, 2), false], // the next part of the open segment
    [at('part', 3, 0), false],
  ])('%o: %s', (path, expected) => {
    expect(published(t, path)).toBe(expected);
  });

  it('counts a segment as published once a later one is open', () => {
    expect(published(timeline({ segments: [segment(0)], open: open(2, 1) }), at('segment', 1))).toBe(true);
  });

  it('names an object by its broadcast: the same numbers in another broadcast are another object', () => {
    // Segment 0 was written by the earlier broadcast (still in the window after a reconnect), 1 and 2 by this one.
    const t = timeline({ segments: [segment(0, EARLIER), segment(1)] });
    expect(published(t, at('segment', 0, 0, EARLIER))).toBe(true);
    expect(published(t, at('part', 0, 4, EARLIER))).toBe(true);
    expect(published(t, at('init', 1, 0, EARLIER))).toBe(true);
    expect(published(t, at('segment', 0))).toBe(false);
    expect(published(t, at('segment', 1, 0, EARLIER))).toBe(false);
    expect(published(t, at('part', 2, 0, EARLIER))).toBe(false);
    expect(published(t, at('init', 2, 0, EARLIER))).toBe(false);
  });
});

describe('holdFor: how long a request for media not yet stored may wait', () => {
  const partWaitMs = 300; // 3 part targets of 100 ms
  const expectHold = (ms: number | undefined, expected: number | undefined) =>
    expected === undefined ? expect(ms).toBeUndefined() : expect(ms).toBeCloseTo(expected);

  it.each([
    [at('part', 2, 2), partWaitMs], // the preload hint
    [at('part', 3, 0), partWaitMs], // the first part of the next segment
    [at('part', 1, 3), partWaitMs], // named already: its bytes are on their way
    [at('part', 2, 3), undefined], // two ahead
    [at('part', 5, 0), undefined],
    [at('segment', 2), 2000], // the open segment: 2 target durations, until it closes
    [at('segment', 1), partWaitMs],
    [at('segment', 3), undefined],
    [at('init', 2), partWaitMs], // the next init version (a restart)
    [at('init', 1), partWaitMs],
    [at('init', 3), undefined],
  ])('%o: %s ms', (path, expected) => {
    expectHold(holdFor(timeline(), path), expected);
  });

  it('accepts either guess when the open segment has reached its target (the hint may start a segment)', () => {
    const closing = timeline({ open: open(2, 5) }); // 500 ms: the hint is segment 3, part 0
    expectHold(holdFor(closing, at('part', 3, 0)), partWaitMs);
    expectHold(holdFor(closing, at('part', 2, 5)), partWaitMs);
    expect(holdFor(closing, at('part', 2, 6))).toBeUndefined();
  });

  it('holds only the current broadcast: a name of another one is a plain storage read', () => {
    const t = timeline({ segments: [segment(0, EARLIER), segment(1)] });
    for (const path of [
      at('part', 2, 2, EARLIER), // the hint's numbers, in another broadcast
      at('part', 3, 0, EARLIER),
      at('part', 0, 4, EARLIER), // listed, so stored already: no reason to wait
      at('init', 2, 0, 'mh3kzzzzzzzz'),
    ]) {
      expect(holdFor(t, path)).toBeUndefined();
    }
    expectHold(holdFor(t, at('part', 2, 2)), partWaitMs);
  });

  it('holds nothing once the stream has ended', () => {
    const ended = timeline({ ended: true });
    for (const path of [at('part', 3, 0), at('segment', 1), at('init', 2)]) {
      expect(holdFor(ended, path)).toBeUndefined();
    }
  });
});
