import { describe, expect, it } from 'vitest';
import {
  behindLabel,
  SCRUB_STEPS,
  scrubPosition,
  scrubTime,
  WINDOW_START_MARGIN_S,
} from '../../web/src/viewer/dvr-model.js';

const window = { start: 100, end: 100 + 4 * 3600 };

describe('the DVR scrubber (D43)', () => {
  it('puts position 0 just inside the window start and the last position at its newest media', () => {
    expect(scrubTime(0, window)).toBe(100 + WINDOW_START_MARGIN_S);
    expect(scrubTime(SCRUB_STEPS, window)).toBe(window.end);
    expect(scrubTime(SCRUB_STEPS / 2, window)).toBeCloseTo(100 + WINDOW_START_MARGIN_S + 7200, 6);
    // Out-of-range input (a stale position after the window slid) stays inside.
    expect(scrubTime(-5, window)).toBe(100 + WINDOW_START_MARGIN_S);
    expect(scrubTime(SCRUB_STEPS * 2, window)).toBe(window.end);
  });

  it('shows where playback is, and how far behind the newest media', () => {
    expect(scrubPosition(100, window)).toBe(0);
    expect(scrubPosition(window.end, window)).toBe(SCRUB_STEPS);
    expect(scrubPosition(100 + 3600, window)).toBe(SCRUB_STEPS / 4);
    expect(scrubPosition(5, { start: 5, end: 5 })).toBe(SCRUB_STEPS);
    expect(behindLabel(window.end - 83, window)).toBe('-1:23');
    expect(behindLabel(100, window)).toBe('-4:00:00');
    expect(behindLabel(window.end + 1, window)).toBe('-0:00');
  });
});
