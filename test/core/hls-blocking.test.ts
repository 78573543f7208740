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

const segment = (msn: number): SegmentEntry => ({
  msn,
  durationS: 0.5,
  programDateTimeMs: T0 + msn * 500,
  discontinuity: false,
  initVersion: 1,
  bytes: 5000,
  partCount: 5,
});
const open = (msn: number, parts: number): OpenSegmentEntry => ({
  msn,
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
    initVersion: 1,
    ended: false,
    ...overrides,
  };
}

const at = (kind: 'init' | 'segment' | 'part', a: number, b = 0): MediaPath => {
  const where = { streamId: 'cam-1', rendition: '360p' };
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
  ])('refuses %o, naming %s', (query, field) => {
    const parsed = parseDirectives(query);
    expect(parsed).toMatchObject({ field });
    expect('error' in parsed && parsed.error).toContain(field);
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

  it('holds nothing once the stream has ended', () => {
    const ended = timeline({ ended: true });
    for (const path of [at('part', 3, 0), at('segment', 1), at('init', 2)]) {
      expect(holdFor(ended, path)).toBeUndefined();
    }
  });
});
