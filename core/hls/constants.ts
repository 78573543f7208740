/** LL-HLS figures derived from the targets, with their units in the name and the spec rule beside each. */

/** PART-HOLD-BACK in multiples of PART-TARGET. Spec: MUST be >= 2, SHOULD be >= 3. */
export const PART_HOLD_BACK_PARTS = 3;
/** HOLD-BACK in multiples of TARGETDURATION. Spec: SHOULD be >= 3 (for clients without LL-HLS). */
export const HOLD_BACK_TARGETS = 3;
/** CAN-SKIP-UNTIL in multiples of TARGETDURATION. Spec: MUST be >= 6. */
export const CAN_SKIP_UNTIL_TARGETS = 6;
/**
 * EXT-X-PART lines stay on a complete segment while it starts within this many target durations of the live end.
 * Spec: parts SHOULD be removed once older than 3 target durations. Fewer hurts players: hls.js stops loading parts
 * (and falls back to whole segments, adding a segment of latency) when its playhead is behind the first listed part.
 */
export const PART_RETENTION_TARGETS = 3;
/** EXT-X-VERSION for media playlists: 9 for EXT-X-SKIP (delta updates), which we always offer. */
export const MEDIA_PLAYLIST_VERSION = 9;
/** EXT-X-VERSION for the multivariant playlist (no features beyond version 6 there). */
export const MULTIVARIANT_PLAYLIST_VERSION = 6;
/** A decode-time gap or overlap larger than this (milliseconds) is a timestamp jump: a discontinuity. */
export const TIMESTAMP_JUMP_MS = 1000;
/** The seed's live window in segments. */
export const DEFAULT_WINDOW_SEGMENTS = 20;

export const msToS = (ms: number): number => ms / 1000;

/**
 * A producer run whose first output decode time is within this of zero is anchored at decode time zero (ffmpeg
 * re-zeroes its output; a passthrough starts at its first keyframe, up to a GOP in); beyond it, at its first part.
 */
export const MAX_RUN_START_S = 10;
