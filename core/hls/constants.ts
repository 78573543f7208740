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

/*
 * Packaging targets and their limits: the one source for the stage config (infra/config.ts), the ingest
 * environment (core/contracts/env.ts), the embedded default (local/platform.ts) and the packager.
 */

/**
 * Default LL-HLS part target. Players hold back PART_HOLD_BACK_PARTS parts, so 100 ms parts keep them 0.3 s behind
 * the live edge; shorter parts add S3 writes and playlist updates per second for little latency gained.
 */
export const DEFAULT_PART_TARGET_MS = 100;
/**
 * Default segment target: 5 parts. TARGETDURATION is the segment rounded up to whole seconds, so 500 ms keeps it at
 * the smallest value (1 s): a blocking reload waits at most 3 s and clients without LL-HLS hold back 3 s.
 */
export const DEFAULT_SEGMENT_TARGET_MS = 500;
/**
 * Default live window: 20 x 500 ms = 10 s. Longer than CAN-SKIP-UNTIL (6 target durations), so delta updates have
 * segments to skip, and short enough that a full playlist stays a few kilobytes.
 */
export const DEFAULT_WINDOW_SEGMENTS = 20;

/** Smallest part: one frame at 30 fps is 33.3 ms, and a part must carry at least one whole frame. */
export const MIN_PART_TARGET_MS = 34;
/** Largest part: beyond 2 s, PART-HOLD-BACK (3 parts) is no shorter than plain HLS with 2 s segments. */
export const MAX_PART_TARGET_MS = 2000;
/** Smallest segment: segments are cut from whole parts, so a segment holds at least one part. */
export const MIN_SEGMENT_TARGET_MS = MIN_PART_TARGET_MS;
/**
 * Largest segment: a blocking reload waits up to 3 target durations, and the manifest function must answer within
 * CloudFront's 30 s origin read timeout (3 x 10 s).
 */
export const MAX_SEGMENT_TARGET_MS = 10_000;
/**
 * Fewest segments in a live playlist. Spec: a live playlist MUST stay at least 3 target durations long, and a
 * segment is at most one target duration (the stage config also checks the duration itself).
 */
export const MIN_WINDOW_SEGMENTS = 3;
/**
 * Most segments in a live playlist: every playlist request renders the whole window from one Redis read, so its
 * size bounds that work; seeking further back is what the DVR window (segments kept in storage) is for.
 */
export const MAX_WINDOW_SEGMENTS = 1000;

export const msToS = (ms: number): number => ms / 1000;

/**
 * A producer run whose first output decode time is within this of zero is anchored at decode time zero (ffmpeg
 * re-zeroes its output; a passthrough starts at its first keyframe, up to a GOP in); beyond it, at its first part.
 */
export const MAX_RUN_START_S = 10;
