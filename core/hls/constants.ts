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

/*
 * Where a fresh timeline's numbers start (decision D24). A timeline with no live state to continue from (the first
 * broadcast, or one after the state expired, was flushed or was deleted with its stream) used to start at msn 0,
 * so the same playlist URL named different media under the same (msn, part), and blocking responses cached at the
 * edge by `_HLS_msn`/`_HLS_part` answered for the wrong broadcast. It now starts at a floor read off the wall clock,
 * one step per MSN_FLOOR_STEP_MS since MSN_FLOOR_EPOCH_MS, and a timeline can never overtake the floor:
 * - A segment closes in steady state only once it holds a segment target of media, at least MIN_SEGMENT_TARGET_MS
 *   (34 ms) minus SEGMENT_TOLERANCE_S: at most 1000 / 33 = 30.3 segments per second of live media. The floor takes
 *   1000 / 10 = 100 steps per second, so it gains at least 69.7 a second on the fastest timeline (98 a second on the
 *   default 500 ms segments): a burst of buffered media at an encoder's start (a few seconds at most) is caught up
 *   within a second or so, long before any new broadcast could follow.
 * - Segments cut short are the only way to go faster: a discontinuity (producer restart, timestamp jump over 1 s, a
 *   lost part) closes the open segment at once. Outrunning the floor takes more than 70 of them per second,
 *   sustained over the whole broadcast; an input that does that is not playable anyway, and even then media names
 *   stay unique (each broadcast writes under its own id, decision D16): only the numbers of the next broadcast
 *   after a state loss could repeat, the case this floor exists for. Not prevented further, for that reason.
 * - The floor is only used without a previous state; with one, numbering continues from it (a resume never goes
 *   back, and may run ahead of the floor: a later fresh start then starts at the floor, above any number of a
 *   timeline that was itself behind it).
 * Size: 100 steps per second is 3.2e9 a year, 10 digits until 2029 and 11 until 2057; the names grammar and the
 * canonical `_HLS_msn` allow 15 digits (a safe integer), over 300,000 years. hls.js plays such numbers (tested end
 * to end, test/manifest/e2e-playback.test.ts, which runs on the real clock).
 *
 * DISCONTINUITY-SEQUENCE cannot take the same floor: hls.js keeps a sparse array indexed by discontinuity number and
 * walks it from 0 on every playlist load (stream-controller, `initPTS.some`), so a DISCONTINUITY-SEQUENCE of 3e9
 * froze the player (measured: the page stopped after its first parts), and even 1e5 costs ~7 ms a reload, ten
 * reloads a second. So it starts at a floor of one step a day (334 on 2026-12-01, +365 a year: negligible there).
 * It goes up across a state loss unless the earlier timeline listed more discontinuities than days passed since it
 * started (a camera reconnecting many times a day, then the state lost). What that costs is bounded: only a player
 * still holding the earlier playlist notices (its discontinuity numbers overlap, so hls.js aligns by them rather than
 * by PROGRAM-DATE-TIME, a mis-seek it recovers from), and media sequence numbers (what names media and cache keys)
 * never repeat either way.
 */
/** 2026-01-01T00:00:00Z: floors count from here (numbers stay short); a clock before it gives floor 0. */
export const MSN_FLOOR_EPOCH_MS = Date.UTC(2026, 0, 1);
/** One floor step: well under the shortest steady segment (MIN_SEGMENT_TARGET_MS). */
export const MSN_FLOOR_STEP_MS = 10;

/** One DISCONTINUITY-SEQUENCE floor step: a day (see above: hls.js's cost grows with the number). */
export const DISCONTINUITY_FLOOR_STEP_MS = 86_400_000;

/** The first media sequence number of a timeline started at `nowMs` without history. */
export function msnFloor(nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - MSN_FLOOR_EPOCH_MS) / MSN_FLOOR_STEP_MS));
}

/** The DISCONTINUITY-SEQUENCE of a timeline started at `nowMs` without history. */
export function discontinuityFloor(nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - MSN_FLOOR_EPOCH_MS) / DISCONTINUITY_FLOOR_STEP_MS));
}

/** Where a timeline started at `nowMs` without history begins (decision D24). */
export function sequenceFloor(nowMs: number): { readonly msn: number; readonly discontinuity: number } {
  return { msn: msnFloor(nowMs), discontinuity: discontinuityFloor(nowMs) };
}
