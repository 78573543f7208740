import { MAX_PART_TARGET_MS, MAX_SEGMENT_TARGET_MS, PART_HOLD_BACK_PARTS } from './hls/constants.js';
import type { Rung } from './ladder.js';
import * as z from './zod.js';

/**
 * Cost-latency profiles (issue 12, decision D28). CloudFront bills every request, and an LL-HLS player makes two per
 * part (one blocking playlist reload, one part fetch), so the part duration sets most of a viewer's cost; players hold
 * back PART_HOLD_BACK_PARTS parts, so it also sets most of the latency. A profile fixes, per rung, the part duration;
 * the segment duration is one value for the whole ladder so segments (and keyframes) stay aligned across renditions.
 *
 * - low: 4-frame parts (133 ms) on every rung; sub-second glass-to-glass at 15 requests/s per viewer, under twice
 *   IVS Low-Latency's price (100 ms parts, 20 requests/s, would cost $0.072/h in requests alone).
 * - standard: 8-frame parts (267 ms) everywhere; about 1 s, 7.5 requests/s: under IVS Low-Latency's $0.0375/h.
 * - wall: full-size rungs keep 4-frame parts (the focused tile of a multi-view wall plays one), the tile rung takes
 *   12-frame parts (400 ms, 5 requests/s): the non-focused tiles, which nobody watches closely, cost a third of a
 *   focused one, so a 6-tile wall stays at 40 requests/s. On a one-rung ladder the only rung is full-size: `wall`
 *   is then `low`.
 *
 * Every value is a whole number of frames at the ladder's 30 fps: ffmpeg cuts fragments on frame boundaries, so a
 * target between two frame counts would make every part longer than PART-TARGET (the segmenter then raises
 * PART-TARGET to what it sees, and the latency and request rate are no longer what the profile says). Segments are
 * 800 ms (24 frames): a whole number of every part, and under 1 s so TARGETDURATION stays 1 s.
 */
export const LATENCY_PROFILES = ['low', 'standard', 'wall'] as const;
export const LatencyProfile = z.enum(LATENCY_PROFILES, {
  message: `must be one of ${LATENCY_PROFILES.join(', ')}`,
});
export type LatencyProfile = z.infer<typeof LatencyProfile>;
/** What a stream gets when nobody chose: the sub-second latency Mirror has always had, at a bounded price. */
export const DEFAULT_LATENCY_PROFILE: LatencyProfile = 'low';

export interface ProfileTargets {
  /** Part target of the full-size rungs (every rung but the tile rung of a multi-rung ladder), ms. */
  readonly partMs: number;
  /** Part target of the tile rung (the smallest rung of a ladder with more than one), ms. */
  readonly tilePartMs: number;
  /** Segment target, one for the whole ladder: a whole multiple of both part targets, ms. */
  readonly segmentMs: number;
}

/** The frame rate of every transcoded rung (core/ladder.ts): what profile durations are whole multiples of. */
export const PROFILE_FPS = 30;
/** `n` frames at PROFILE_FPS, in ms (not always an integer: 4 frames are 133.33 ms). */
export const framesMs = (n: number): number => (n * 1000) / PROFILE_FPS;

export const PROFILE_TARGETS: Readonly<Record<LatencyProfile, ProfileTargets>> = {
  low: { partMs: framesMs(4), tilePartMs: framesMs(4), segmentMs: framesMs(24) },
  standard: { partMs: framesMs(8), tilePartMs: framesMs(8), segmentMs: framesMs(24) },
  wall: { partMs: framesMs(4), tilePartMs: framesMs(12), segmentMs: framesMs(24) },
};

/** The part target of one rung of a ladder under a profile. */
export function partTargetMsFor(profile: LatencyProfile, ladder: readonly Rung[], rung: Rung): number {
  return partMsOf(PROFILE_TARGETS[profile], ladder, rung);
}

/** A rendition's LL-HLS targets: what its ffmpeg output (frag_duration) and its packager are given. */
export interface RenditionTargets {
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
}

/** The targets of one rung of a ladder under a profile (the segment target is the ladder's). */
export function renditionTargets(
  profile: LatencyProfile,
  ladder: readonly Rung[],
  rung: Rung,
): RenditionTargets {
  return {
    partTargetMs: partTargetMsFor(profile, ladder, rung),
    segmentTargetMs: PROFILE_TARGETS[profile].segmentMs,
  };
}

function partMsOf(targets: ProfileTargets, ladder: readonly Rung[], rung: Rung): number {
  const isTileRung = ladder.length > 1 && ladder.at(-1)?.name === rung.name;
  return isTileRung ? targets.tilePartMs : targets.partMs;
}

/** Equal up to float noise: 800 / (400 / 3) is 6 only approximately. */
const isWhole = (x: number): boolean => Math.abs(x - Math.round(x)) < 1e-6;

/**
 * The LL-HLS rules a profile must keep on a ladder, one message per rule broken (empty: valid). Rules per rendition:
 * a part holds at least one frame and at most MAX_PART_TARGET_MS; parts fit in a segment and a segment is a whole
 * number of that rendition's parts (segments are cut from whole parts, RFC 8216bis 4.4.4.9); a part is a whole
 * number of frames (ffmpeg cuts on frames, so anything else makes parts longer than PART-TARGET); PART-HOLD-BACK
 * (PART_HOLD_BACK_PARTS of the rendition's own parts) is at least 3 parts (spec: MUST >= 2, SHOULD >= 3). Across the
 * ladder: one segment target (by construction: ProfileTargets has one), at most MAX_SEGMENT_TARGET_MS.
 */
export function profileProblems(targets: ProfileTargets, ladder: readonly Rung[]): string[] {
  const problems: string[] = [];
  const { segmentMs } = targets;
  if (!(segmentMs > 0 && segmentMs <= MAX_SEGMENT_TARGET_MS)) {
    problems.push(`segmentMs: ${segmentMs} ms is outside (0, ${MAX_SEGMENT_TARGET_MS}] ms`);
  }
  if (PART_HOLD_BACK_PARTS < 3) {
    problems.push(`PART-HOLD-BACK is ${PART_HOLD_BACK_PARTS} parts; it must be at least 3`);
  }
  for (const rung of ladder) {
    const partMs = partMsOf(targets, ladder, rung);
    const where = `${rung.name}: part ${+partMs.toFixed(3)} ms`;
    // One frame at 30 fps (MIN_PART_TARGET_MS is that, rounded up to a whole ms for the integer settings).
    if (!(partMs >= framesMs(1) - 1e-9 && partMs <= MAX_PART_TARGET_MS)) {
      problems.push(`${where} is outside [one frame, ${MAX_PART_TARGET_MS}] ms`);
      continue;
    }
    if (partMs > segmentMs) problems.push(`${where} is longer than the ${segmentMs} ms segment`);
    else if (!isWhole(segmentMs / partMs)) {
      problems.push(`${where}: the ${segmentMs} ms segment is not a whole number of parts`);
    }
    if (rung.fps > 0 && !isWhole((partMs * rung.fps) / 1000)) {
      problems.push(`${where} is not a whole number of frames at ${rung.fps} fps`);
    }
  }
  return problems;
}

/**
 * The shortest part of any profile: where a late publish first stalls players (those at PART-HOLD-BACK of the
 * shortest parts), so what stage-wide thresholds such as the part-latency alarm are set against.
 */
export const SHORTEST_PART_TARGET_MS = Math.min(
  ...Object.values(PROFILE_TARGETS).flatMap((t) => [t.partMs, t.tilePartMs]),
);
/** The longest segment of any profile (bounds on a playlist's duration in time). */
export const LONGEST_SEGMENT_TARGET_MS = Math.max(...Object.values(PROFILE_TARGETS).map((t) => t.segmentMs));
/** The shortest segment of any profile. */
export const SHORTEST_SEGMENT_TARGET_MS = Math.min(...Object.values(PROFILE_TARGETS).map((t) => t.segmentMs));
