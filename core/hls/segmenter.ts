import {
  DEFAULT_WINDOW_SEGMENTS,
  MAX_RUN_START_S,
  PART_RETENTION_TARGETS,
  TIMESTAMP_JUMP_MS,
} from './constants.js';
import {
  type OpenSegmentEntry,
  type PartEntry,
  type RenditionTimeline,
  SEGMENT_TOLERANCE_S,
  type SegmentEntry,
} from './timeline.js';

export interface SegmenterOptions {
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  /** Complete segments kept in the live window; DEFAULT_WINDOW_SEGMENTS (20 x 500 ms = 10 s) when absent. */
  readonly windowSegments?: number;
}

/** One fragment as the segmenter sees it: timing in the timing track's timescale. */
export interface PartInput {
  /** Decode time of the first sample, in `timescale` ticks. */
  readonly baseDecodeTime: number;
  /** In `timescale` ticks. */
  readonly duration: number;
  /** Ticks per second. */
  readonly timescale: number;
  readonly independent: boolean;
  readonly bytes: number;
  /** The init version this part decodes with. */
  readonly initVersion: number;
}

export interface PartPlacement {
  readonly msn: number;
  readonly part: number;
  /** The segment this part's arrival closed, if any (its bytes are the parts of that segment). */
  readonly closed?: SegmentEntry;
}

/**
 * Groups parts into segments (pure; the caller supplies the wall clock). A new segment starts at an independent part
 * once the open one has reached the target duration, or at once on a discontinuity (source restart, timestamp jump).
 */
export class Segmenter {
  private readonly segmentTargetS: number;
  private readonly windowSegments: number;
  private partTargetS: number;
  private segments: SegmentEntry[] = [];
  private open: { entry: OpenSegmentEntry; parts: PartEntry[]; durationTicks: number } | undefined;
  private mediaSequence = 0;
  private discontinuitySequence = 0;
  private nextMsn = 0;
  private pendingDiscontinuity = false;
  private initVersion = 0;
  private ended = false;
  /** Wall-clock anchor: decode time `anchorTicks` (at `anchorTimescale`) happened at `anchorWallMs`. */
  private anchor: { wallMs: number; ticks: number; timescale: number; atIngest: boolean } | undefined;
  /** Ingest arrival time of the producer run's first input: stamps the next part that (re)anchors the clock. */
  private ingestAnchorMs: number | undefined;
  /** Decode time where the next part is expected to start. */
  private expected: { ticks: number; timescale: number } | undefined;

  constructor(options: SegmenterOptions) {
    if (options.partTargetMs <= 0 || options.segmentTargetMs < options.partTargetMs) {
      throw new RangeError('need 0 < partTargetMs <= segmentTargetMs');
    }
    this.partTargetS = options.partTargetMs / 1000;
    this.segmentTargetS = options.segmentTargetMs / 1000;
    this.windowSegments = options.windowSegments ?? DEFAULT_WINDOW_SEGMENTS;
  }

  /**
   * Continues a rendition published by an earlier process (ingest restarted): same window, media sequence numbers
   * carry on (so no key is reused), and the next part starts a segment after an EXT-X-DISCONTINUITY.
   */
  resume(previous: RenditionTimeline, initVersion: number): void {
    const segments = [...previous.segments];
    if (previous.open !== undefined && previous.open.parts.length > 0) {
      const o = previous.open;
      segments.push({
        msn: o.msn,
        durationS: o.parts.reduce((sum, p) => sum + p.durationS, 0),
        programDateTimeMs: o.programDateTimeMs,
        discontinuity: o.discontinuity,
        initVersion: o.initVersion,
        bytes: o.parts.reduce((sum, p) => sum + p.bytes, 0),
        partCount: o.parts.length,
        parts: o.parts,
      });
    }
    const leaving = segments.length - Math.min(segments.length, this.windowSegments);
    this.segments = segments.slice(leaving);
    this.mediaSequence = this.segments[0]?.msn ?? previous.mediaSequence;
    this.discontinuitySequence =
      previous.discontinuitySequence + segments.slice(0, leaving).filter((x) => x.discontinuity).length;
    this.nextMsn = (segments.at(-1)?.msn ?? previous.mediaSequence - 1) + 1;
    this.open = undefined;
    this.restart(initVersion);
    this.pendingDiscontinuity = true;
  }

  /** The producer restarted: the next part starts a new segment after an EXT-X-DISCONTINUITY. */
  restart(initVersion: number): void {
    this.initVersion = initVersion;
    this.pendingDiscontinuity = this.nextMsn > 0 || this.open !== undefined;
    this.expected = undefined;
    this.anchor = undefined;
    this.ingestAnchorMs = undefined;
    this.ended = false;
  }

  /**
   * The producer run whose first part comes next had its media time zero at ingest at `wallMs`: decode time 0 is
   * stamped `wallMs` and parts follow by media time (PDT = anchor + decodeTime). Without it the first part is
   * stamped with `nowMs` given to addPart.
   */
  setIngestAnchor(wallMs: number): void {
    this.ingestAnchorMs = wallMs;
  }

  addPart(input: PartInput, nowMs: number): PartPlacement {
    if (input.timescale <= 0 || input.duration < 0) throw new RangeError('bad part timing');
    this.initVersion = input.initVersion;
    const jumped = this.expected !== undefined && this.isJump(input);
    const discontinuity = this.pendingDiscontinuity || jumped;
    if (this.anchor === undefined || discontinuity) this.reanchor(input, nowMs, jumped);
    const durationS = input.duration / input.timescale;
    if (durationS > this.partTargetS) this.partTargetS = durationS;
    const part: PartEntry = { durationS, independent: input.independent, bytes: input.bytes };

    let closed: SegmentEntry | undefined;
    const open = this.open;
    const reachedTarget =
      open !== undefined && open.durationTicks / input.timescale >= this.segmentTargetS - SEGMENT_TOLERANCE_S;
    if (open !== undefined && (discontinuity || (input.independent && reachedTarget))) {
      closed = this.closeOpen();
    }
    if (this.open === undefined) {
      this.open = {
        entry: {
          msn: this.nextMsn++,
          programDateTimeMs: this.wallClockOf(input.baseDecodeTime, input.timescale),
          discontinuity,
          initVersion: input.initVersion,
          parts: [],
        },
        parts: [],
        durationTicks: 0,
      };
    }
    this.pendingDiscontinuity = false;
    const current = this.open!;
    current.parts.push(part);
    current.durationTicks += input.duration;
    this.expected = { ticks: input.baseDecodeTime + input.duration, timescale: input.timescale };
    return { msn: current.entry.msn, part: current.parts.length - 1, ...(closed ? { closed } : {}) };
  }

  /** The producer ended for good: closes the open segment. */
  finish(): SegmentEntry | undefined {
    const closed = this.open === undefined ? undefined : this.closeOpen();
    this.ended = true;
    return closed;
  }

  timeline(): RenditionTimeline {
    const open = this.open;
    return {
      partTargetS: this.partTargetS,
      targetDurationS: this.targetDurationS(),
      segmentTargetS: this.segmentTargetS,
      mediaSequence: this.mediaSequence,
      discontinuitySequence: this.discontinuitySequence,
      segments: this.segments.slice(),
      ...(open === undefined ? {} : { open: { ...open.entry, parts: open.parts.slice() } }),
      initVersion: this.initVersion,
      ended: this.ended,
    };
  }

  private targetDurationS(): number {
    let longest = this.segmentTargetS;
    for (const s of this.segments) longest = Math.max(longest, Math.round(s.durationS));
    if (this.open !== undefined) {
      longest = Math.max(longest, Math.round(this.open.parts.reduce((sum, p) => sum + p.durationS, 0)));
    }
    return Math.max(1, Math.ceil(longest - SEGMENT_TOLERANCE_S));
  }

  private isJump(input: PartInput): boolean {
    const expected = this.expected!;
    if (expected.timescale !== input.timescale) return true;
    const gapMs = (Math.abs(input.baseDecodeTime - expected.ticks) / input.timescale) * 1000;
    return gapMs > TIMESTAMP_JUMP_MS;
  }

  private reanchor(input: PartInput, nowMs: number, jumped: boolean): void {
    const at = { ticks: input.baseDecodeTime, timescale: input.timescale };
    if (this.ingestAnchorMs !== undefined) {
      // The anchor is the wall clock of the run's decode time zero (ffmpeg starts its output there); a run that
      // starts its output later (a passthrough dropping frames before the first keyframe) keeps that offset.
      // A producer whose timestamps do not start near zero is anchored at its first part instead.
      const startS = input.baseDecodeTime / input.timescale;
      const zero = startS >= 0 && startS <= MAX_RUN_START_S ? { ticks: 0, timescale: input.timescale } : at;
      this.anchor = { ...zero, wallMs: this.ingestAnchorMs, atIngest: true };
      this.ingestAnchorMs = undefined;
    } else if (jumped && this.anchor?.atIngest && this.expected !== undefined) {
      // A timestamp jump within one producer run: the ingest clock carries on where the previous part ended.
      const wallMs = this.wallClockOf(this.expected.ticks, this.expected.timescale);
      this.anchor = { ...at, wallMs, atIngest: true };
    } else {
      this.anchor = { ...at, wallMs: nowMs, atIngest: false };
    }
  }

  private wallClockOf(ticks: number, timescale: number): number {
    const anchor = this.anchor!;
    return Math.round(anchor.wallMs + ((ticks - anchor.ticks) / timescale) * 1000);
  }

  private closeOpen(): SegmentEntry {
    const open = this.open!;
    this.open = undefined;
    const segment: SegmentEntry = {
      msn: open.entry.msn,
      durationS: open.parts.reduce((sum, p) => sum + p.durationS, 0),
      programDateTimeMs: open.entry.programDateTimeMs,
      discontinuity: open.entry.discontinuity,
      initVersion: open.entry.initVersion,
      bytes: open.parts.reduce((sum, p) => sum + p.bytes, 0),
      partCount: open.parts.length,
      parts: open.parts,
    };
    this.segments.push(segment);
    // Parts stay listed only on segments that start within PART_RETENTION_TARGETS target durations of the end.
    const retentionS = PART_RETENTION_TARGETS * this.targetDurationS();
    let fromEndS = 0;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const entry = this.segments[i]!;
      fromEndS += entry.durationS;
      if (fromEndS > retentionS + SEGMENT_TOLERANCE_S) {
        if (entry.parts === undefined) break;
        const { parts: _dropped, ...rest } = entry;
        this.segments[i] = rest;
      }
    }
    while (this.segments.length > this.windowSegments) {
      const leaving = this.segments.shift()!;
      this.mediaSequence = leaving.msn + 1;
      // DISCONTINUITY-SEQUENCE counts the discontinuities before the first listed segment.
      if (leaving.discontinuity) this.discontinuitySequence++;
    }
    return segment;
  }
}
