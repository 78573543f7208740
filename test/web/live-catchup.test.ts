import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bufferedAhead,
  type CatchUpState,
  catchUpRate,
  DEFAULT_CATCH_UP,
  LIVE_TARGET_SLACK_S,
  liveTargetFor,
} from '../../web/src/live-catchup.js';

const at = (over: Partial<CatchUpState>): CatchUpState => ({
  latencyS: 0.5,
  targetS: 0.5,
  bufferAheadS: 0.4,
  rate: 1,
  ...over,
});

function ranges(...spans: [number, number][]): TimeRanges {
  return {
    length: spans.length,
    start: (i: number) => spans[i]?.[0] ?? Number.NaN,
    end: (i: number) => spans[i]?.[1] ?? Number.NaN,
  };
}

describe('catchUpRate', () => {
  it('plays at 1x on target and within the start threshold', () => {
    expect(catchUpRate(at({}))).toBe(1);
    expect(catchUpRate(at({ latencyS: 0.59 }))).toBe(1);
  });

  it('speeds up in proportion to the excess, capped at the maximum', () => {
    expect(catchUpRate(at({ latencyS: 0.9 }))).toBe(1.2);
    expect(catchUpRate(at({ latencyS: 0.7 }))).toBe(1.1);
    expect(catchUpRate(at({ latencyS: 3, bufferAheadS: 2 }))).toBe(DEFAULT_CATCH_UP.maxRate);
  });

  it('keeps catching up below the start threshold until close to the target (hysteresis)', () => {
    expect(catchUpRate(at({ latencyS: 0.56, rate: 1 }))).toBe(1);
    expect(catchUpRate(at({ latencyS: 0.56, rate: 1.05 }))).toBe(1.05);
    expect(catchUpRate(at({ latencyS: 0.52, rate: 1.05 }))).toBe(1);
  });

  it('never speeds up with too little buffered ahead: it would stall', () => {
    expect(catchUpRate(at({ latencyS: 1.5, bufferAheadS: 0.1 }))).toBe(1);
  });

  it('never slows down, never exceeds the maximum, and ignores unknown latency', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.constantFrom(1, 1.05, 1.25),
        (latencyS, targetS, bufferAheadS, rate) => {
          const next = catchUpRate({ latencyS, targetS, bufferAheadS, rate });
          expect(next).toBeGreaterThanOrEqual(1);
          expect(next).toBeLessThanOrEqual(DEFAULT_CATCH_UP.maxRate);
          if (latencyS <= targetS) expect(next).toBe(1);
        },
      ),
    );
    expect(catchUpRate(at({ latencyS: Number.NaN }))).toBe(1);
  });
});

describe('bufferedAhead', () => {
  it('measures the contiguous range holding the playhead', () => {
    expect(bufferedAhead(ranges([0, 4], [5, 9]), 3)).toBeCloseTo(1);
    expect(bufferedAhead(ranges([0, 4], [5, 9]), 6)).toBeCloseTo(3);
  });

  it('is 0 in a gap or outside every range, and tolerates a playhead just before the first range', () => {
    expect(bufferedAhead(ranges([0, 4], [5, 9]), 4.5)).toBe(0);
    expect(bufferedAhead(ranges(), 1)).toBe(0);
    expect(bufferedAhead(ranges([10, 12]), 9.95)).toBeCloseTo(2.05);
  });
});

describe('liveTargetFor (decision D28: levels of a stream differ in part duration)', () => {
  it('follows the loaded level’s PART-HOLD-BACK, applying only changes', () => {
    // A wall tile on the 400 ms-part tile rung, then focused onto a 133 ms-part rung, then back.
    const tile = liveTargetFor(1.2, undefined);
    expect(tile).toBeCloseTo(1.2 + LIVE_TARGET_SLACK_S);
    expect(liveTargetFor(1.2, tile)).toBeUndefined();
    const focused = liveTargetFor(0.402, tile);
    expect(focused).toBeCloseTo(0.402 + LIVE_TARGET_SLACK_S);
    expect(liveTargetFor(1.2, focused)).toBeCloseTo(1.2 + LIVE_TARGET_SLACK_S);
    // No PART-HOLD-BACK (a playlist without LL-HLS): leave hls.js's own target.
    expect(liveTargetFor(0, undefined)).toBeUndefined();
    expect(liveTargetFor(Number.NaN, undefined)).toBeUndefined();
  });
});
