/**
 * The state of one rendition's live edge as the segmenter builds it and the live state stores it:
 * plain JSON, so the manifest function can build playlists from one Redis read.
 */

export interface PartEntry {
  readonly durationS: number;
  readonly independent: boolean;
  readonly bytes: number;
}

export interface SegmentEntry {
  readonly msn: number;
  /**
   * The broadcast that wrote this segment's objects (its folder, decision D16): segments of an earlier broadcast
   * still in the window keep their names after a reconnect.
   */
  readonly broadcast: string;
  readonly durationS: number;
  /** Wall clock of the first frame, epoch milliseconds (anchored at ingest). */
  readonly programDateTimeMs: number;
  /** An EXT-X-DISCONTINUITY precedes this segment. */
  readonly discontinuity: boolean;
  readonly initVersion: number;
  readonly bytes: number;
  /** Number of parts the segment was made of (kept after `parts` is trimmed, for blocking-reload arithmetic). */
  readonly partCount: number;
  /**
   * Set when the segment does not start with an independent frame: input without keyframes, cut at the forced-close
   * bound (decision D21). Absent on every other segment, so states written before it read the same.
   */
  readonly dependentStart?: true;
  /** The parts, for the most recent segments only. */
  readonly parts?: readonly PartEntry[];
}

export interface OpenSegmentEntry {
  readonly msn: number;
  readonly broadcast: string;
  readonly programDateTimeMs: number;
  readonly discontinuity: boolean;
  readonly initVersion: number;
  /** As SegmentEntry.dependentStart. */
  readonly dependentStart?: true;
  readonly parts: readonly PartEntry[];
}

export interface RenditionTimeline {
  /** Seconds: the largest part duration seen, at least the configured part target. */
  readonly partTargetS: number;
  /** Whole seconds, at least every segment's duration rounded. */
  readonly targetDurationS: number;
  /** Configured segment target, seconds (decides when the next independent part starts a segment). */
  readonly segmentTargetS: number;
  /** With no segment listed, the msn the next one takes (a fresh timeline's floor, decision D24). */
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  /** Complete segments, oldest first; mediaSequence is the first one's msn. */
  readonly segments: readonly SegmentEntry[];
  /** The segment being built; absent before the first part and after the end. */
  readonly open?: OpenSegmentEntry;
  /** The broadcast the next part belongs to: names the preload hint; the manifest holds only its parts. */
  readonly broadcast: string;
  /** The init version (within `broadcast`) the next part will use. */
  readonly initVersion: number;
  readonly ended: boolean;
}

/** Where the last published part is: the figures EXT-X-RENDITION-REPORT and blocking reload use. */
export interface LivePosition {
  readonly msn: number;
  readonly part?: number;
}

export function lastPosition(timeline: RenditionTimeline): LivePosition | undefined {
  const open = timeline.open;
  if (open !== undefined && open.parts.length > 0) return { msn: open.msn, part: open.parts.length - 1 };
  const last = timeline.segments.at(-1);
  if (last === undefined) return undefined;
  return last.partCount > 0 ? { msn: last.msn, part: last.partCount - 1 } : { msn: last.msn };
}

/** The next part's (msn, part): the open segment's next part, or the first part of the next segment. */
export function nextPart(timeline: RenditionTimeline): { msn: number; part: number } {
  const open = timeline.open;
  const closing =
    open !== undefined &&
    open.parts.reduce((sum, p) => sum + p.durationS, 0) >= timeline.segmentTargetS - SEGMENT_TOLERANCE_S;
  if (open !== undefined && !closing) return { msn: open.msn, part: open.parts.length };
  if (open !== undefined) return { msn: open.msn + 1, part: 0 };
  const last = timeline.segments.at(-1);
  // An empty timeline starts at its mediaSequence (a fresh one at its floor, decision D24), not at 0.
  return { msn: last === undefined ? timeline.mediaSequence : last.msn + 1, part: 0 };
}

/** Slack (seconds) when comparing accumulated durations against the segment target: under one 90 kHz tick, above float error. */
export const SEGMENT_TOLERANCE_S = 0.001;
