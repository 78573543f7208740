// The tile's DVR time-shift (decision D43), pure: where the scrubber puts playback and where it shows it.

/** The seekable range of the DVR playlist, in the video element's seconds. */
export interface SeekWindow {
  readonly start: number;
  readonly end: number;
}

/** Scrubber positions: a range input of 0..SCRUB_STEPS. */
export const SCRUB_STEPS = 1000;
/**
 * Seeking to the very first second of a sliding window loses it at the next reload (its oldest segment drops off);
 * half a second in keeps the target inside the segment that stays longest.
 */
export const WINDOW_START_MARGIN_S = 0.5;

/** The time a scrubber position (0..SCRUB_STEPS) stands for, clamped inside the window. */
export function scrubTime(position: number, window: SeekWindow): number {
  const span = Math.max(0, window.end - window.start);
  const fraction = Math.min(1, Math.max(0, position / SCRUB_STEPS));
  return Math.min(window.end, window.start + Math.min(span, WINDOW_START_MARGIN_S) + fraction * span);
}

/** The scrubber position of `time`. */
export function scrubPosition(time: number, window: SeekWindow): number {
  const span = window.end - window.start;
  if (!(span > 0)) return SCRUB_STEPS;
  return Math.round(Math.min(1, Math.max(0, (time - window.start) / span)) * SCRUB_STEPS);
}

/** How far behind the DVR window's newest media playback is, as the tile shows it (`-1:23`). */
export function behindLabel(time: number, window: SeekWindow): string {
  const behind = Math.max(0, Math.round(window.end - time));
  const h = Math.floor(behind / 3600);
  const m = Math.floor((behind % 3600) / 60);
  const s = String(behind % 60).padStart(2, '0');
  return h > 0 ? `-${h}:${String(m).padStart(2, '0')}:${s}` : `-${m}:${s}`;
}
