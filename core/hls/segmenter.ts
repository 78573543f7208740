import {
  DEFAULT_WINDOW_SEGMENTS,
  MAX_RUN_START_S,
  MAX_SEGMENT_TARGET_MS,
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
  /** The broadcast whose parts come first (decision D16); restart() may start another. */
  readonly broadcast: string;
  /**
   * A fresh timeline's first msn and DISCONTINUITY-SEQUENCE: sequenceFloor of the wall clock (decision D24), so no
   * msn an earlier broadcast of the stream used comes again; both 0 when absent. resume() continues a previous one.
   */
  readonly startAt?: { readonly msn: number; readonly discontinuity: number };
}

/**
 * Forced close (decision D21): a segment that has not met an independent part is closed before it would exceed
 * max(2 s, 2 x segment target), at most MAX_SEGMENT_TARGET_MS. 2 s is the keyframe interval streaming services ask
 * encoders for, so a passthrough with such a GOP is cut at its keyframes as before; input without keyframes gets
 * segments of that length instead of one that grows forever (in memory and in the live state). The cap keeps
 * TARGETDURATION where a blocking reload (3 target durations) fits CloudFront's 30 s origin timeout.
 */
export const FORCED_CLOSE_MIN_S = 2;
export const FORCED_CLOSE_TARGETS = 2;
export function forcedCloseS(segmentTargetS: number): number {
  return Math.min(
    Math.max(FORCED_CLOSE_MIN_S, FORCED_CLOSE_TARGETS * segmentTargetS),
    Math.max(segmentTargetS, MAX_SEGMENT_TARGET_MS / 1000),
  );
}

/** What lost() did with the open segment. */
export interface LostMedia {
  /** The open segment, closed at its last stored part. */
  readonly closed?: SegmentEntry;
  /**
   * The open segment had no stored part: it is dropped and this msn goes to the next segment, which must be written
   * under another folder (the lost part's name may exist: a write that timed out can still land).
   */
  readonly discarded?: number;
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
 * once the open one has reached the target duration, at once on a discontinuity (source restart, timestamp jump,
 * lost media), or on any part once the open one would outgrow the forced-close bound (input without keyframes).
 */
export class Segmenter {
  private readonly segmentTargetS: number;
  private readonly maxSegmentS: number;
  private readonly windowSegments: number;
  private partTargetS: number;
  private segments: SegmentEntry[] = [];
  private open:
    | { entry: OpenSegmentEntry; parts: PartEntry[]; durationTicks: number; lastTicks: number }
    | undefined;
  private mediaSequence: number;
  private discontinuitySequence: number;
  private nextMsn: number;
  /** The timeline's first msn: a segment placed from nextMsn above it has something before it. */
  private firstMsn: number;
  private pendingDiscontinuity = false;
  private initVersion = 0;
  private broadcast: string;
  private ended = false;
  /** Wall-clock anchor: decode time `anchorTicks` (at `anchorTimescale`) happened at `anchorWallMs`. */
  private anchor: { wallMs: number; ticks: number; timescale: number; atIngest: boolean } | undefined;
  /** Ingest arrival time of the producer run's first input: stamps the next part that (re)anchors the clock. */
  private ingestAnchorMs: number | undefined;
  /** Decode time where the next part is expected to start. */
  private expected: { ticks: number; timescale: number } | undefined;
  /** After lost(): parts are dropped (admit() says no) until an independent one, counting the media dropped. */
  private awaiting: { droppedS: number } | undefined;
  /** After lost(): the producer run goes on, so the next part keeps its clock (PDT jumps over the hole). */
  private keepAnchor = false;

  constructor(options: SegmenterOptions) {
    if (options.partTargetMs <= 0 || options.segmentTargetMs < options.partTargetMs) {
      throw new RangeError('need 0 < partTargetMs <= segmentTargetMs');
    }
    this.partTargetS = options.partTargetMs / 1000;
    this.segmentTargetS = options.segmentTargetMs / 1000;
    this.maxSegmentS = forcedCloseS(this.segmentTargetS);
    this.windowSegments = options.windowSegments ?? DEFAULT_WINDOW_SEGMENTS;
    this.broadcast = options.broadcast;
    const { msn, discontinuity } = options.startAt ?? { msn: 0, discontinuity: 0 };
    if (![msn, discontinuity].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new RangeError('startAt numbers must be safe integers >= 0');
    }
    this.mediaSequence = msn;
    this.discontinuitySequence = discontinuity;
    this.nextMsn = msn;
    this.firstMsn = msn;
  }

  /**
   * Raises the starting numbers above those an earlier timeline ended with (before the first part only): the next
   * segment is numbered after `last.msn` and DISCONTINUITY-SEQUENCE starts after `last.discontinuity`.
   */
  startAbove(last: { readonly msn: number; readonly discontinuity: number }): void {
    if (this.open !== undefined || this.segments.length > 0) return;
    const msn = Math.max(this.nextMsn, last.msn + 1);
    this.mediaSequence = msn;
    this.nextMsn = msn;
    this.firstMsn = msn;
    this.discontinuitySequence = Math.max(this.discontinuitySequence, last.discontinuity + 1);
  }

  /**
   * Continues a rendition published by an earlier process (ingest restarted): same window, media sequence numbers
   * carry on, and the next part starts a segment after an EXT-X-DISCONTINUITY. The earlier segments keep their
   * broadcast (so their names); the next part belongs to this segmenter's broadcast.
   */
  resume(previous: RenditionTimeline, initVersion: number): void {
    const segments = [...previous.segments];
    if (previous.open !== undefined && previous.open.parts.length > 0) {
      const o = previous.open;
      segments.push({
        msn: o.msn,
        broadcast: o.broadcast,
        durationS: o.parts.reduce((sum, p) => sum + p.durationS, 0),
        programDateTimeMs: o.programDateTimeMs,
        discontinuity: o.discontinuity,
        initVersion: o.initVersion,
        bytes: o.parts.reduce((sum, p) => sum + p.bytes, 0),
        partCount: o.parts.length,
        ...(o.dependentStart ? { dependentStart: true as const } : {}),
        parts: o.parts,
      });
    }
    const leaving = segments.length - Math.min(segments.length, this.windowSegments);
    this.segments = segments.slice(leaving);
    // The previous timeline may have had longer parts (its stream's latency profile changed, decision D28): every
    // part still listed must stay within PART-TARGET.
    for (const segment of this.segments) {
      for (const part of segment.parts ?? []) this.partTargetS = Math.max(this.partTargetS, part.durationS);
    }
    this.mediaSequence = this.segments[0]?.msn ?? previous.mediaSequence;
    this.discontinuitySequence =
      previous.discontinuitySequence + segments.slice(0, leaving).filter((x) => x.discontinuity).length;
    this.nextMsn = (segments.at(-1)?.msn ?? previous.mediaSequence - 1) + 1;
    this.firstMsn = segments[0]?.msn ?? previous.mediaSequence;
    this.open = undefined;
    this.restart(initVersion);
    this.pendingDiscontinuity = true;
  }

  /**
   * The producer restarted: the next part starts a new segment after an EXT-X-DISCONTINUITY. A new `broadcast`
   * (an encoder reconnect) names the parts from then on; without one the current broadcast goes on (ffmpeg restart).
   */
  restart(initVersion: number, broadcast?: string): void {
    this.initVersion = initVersion;
    if (broadcast !== undefined) this.broadcast = broadcast;
    this.pendingDiscontinuity = this.nextMsn > this.firstMsn || this.open !== undefined;
    this.expected = undefined;
    this.anchor = undefined;
    this.ingestAnchorMs = undefined;
    this.keepAnchor = false;
    this.ended = false;
  }

  /**
   * Media is missing from here (a write finally failed, or a part was dropped before it was placed): nothing after
   * it may join the open segment. `unstored`, the last part placed, is taken back. The open segment is closed at its
   * last stored part (see LostMedia for one left empty). The next part placed starts a segment after an
   * EXT-X-DISCONTINUITY, with the run's clock kept (timestamps and PROGRAM-DATE-TIME jump over the hole); until then
   * admit() drops parts that a decoder could not start at.
   */
  lost(unstored?: { msn: number; part: number }): LostMedia {
    const open = this.open;
    if (unstored !== undefined) {
      if (open?.entry.msn !== unstored.msn || open.parts.length - 1 !== unstored.part) {
        throw new RangeError('only the last part placed can be taken back');
      }
      open.parts.pop();
      open.durationTicks -= open.lastTicks;
    }
    let result: LostMedia = {};
    if (open !== undefined && open.parts.length > 0) {
      result = { closed: this.closeOpen() };
    } else if (open !== undefined) {
      this.open = undefined;
      this.nextMsn = open.entry.msn;
      result = { discarded: open.entry.msn };
    }
    this.pendingDiscontinuity = this.nextMsn > this.firstMsn;
    this.expected = undefined;
    this.keepAnchor = true;
    this.awaiting = { droppedS: 0 };
    return result;
  }

  /**
   * After lost(): may this part be placed? Parts are dropped until an independent one (a decoder can start there),
   * or once a forced-close bound of media has been dropped (input without keyframes would never resume otherwise).
   */
  admit(input: Pick<PartInput, 'independent' | 'duration' | 'timescale'>): boolean {
    const waiting = this.awaiting;
    if (waiting === undefined || input.independent) return true;
    if (waiting.droppedS >= this.maxSegmentS - SEGMENT_TOLERANCE_S) return true;
    waiting.droppedS += input.duration / input.timescale;
    return false;
  }

  /**
   * The producer run goes on with another init segment or folder (its init stored again under a new folder after a
   * loss): unlike restart(), the clock and the pending discontinuity stay as they are.
   */
  useInit(initVersion: number, broadcast: string): void {
    this.initVersion = initVersion;
    this.broadcast = broadcast;
  }

  /** Parts are being dropped after lost() until one a decoder can start at. */
  get awaitingKeyframe(): boolean {
    return this.awaiting !== undefined;
  }

  /** The msn of the first segment in the window: a segment below it is no longer listed. */
  get windowStartMsn(): number {
    return this.mediaSequence;
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
    if (this.anchor === undefined || (discontinuity && !this.keepAnchor)) this.reanchor(input, nowMs, jumped);
    this.keepAnchor = false;
    this.awaiting = undefined;
    const durationS = input.duration / input.timescale;
    if (durationS > this.partTargetS) this.partTargetS = durationS;
    const part: PartEntry = { durationS, independent: input.independent, bytes: input.bytes };

    let closed: SegmentEntry | undefined;
    const open = this.open;
    const openS = open === undefined ? 0 : open.durationTicks / input.timescale;
    const reachedTarget = open !== undefined && openS >= this.segmentTargetS - SEGMENT_TOLERANCE_S;
    // No keyframe in sight: close before the segment outgrows the bound; the next one starts on this part.
    const forced =
      open !== undefined && !input.independent && openS + durationS > this.maxSegmentS + SEGMENT_TOLERANCE_S;
    if (open !== undefined && (discontinuity || forced || (input.independent && reachedTarget))) {
      closed = this.closeOpen();
    }
    if (this.open === undefined) {
      this.open = {
        entry: {
          msn: this.nextMsn++,
          broadcast: this.broadcast,
          programDateTimeMs: this.wallClockOf(input.baseDecodeTime, input.timescale),
          discontinuity,
          initVersion: input.initVersion,
          ...(input.independent ? {} : { dependentStart: true as const }),
          parts: [],
        },
        parts: [],
        durationTicks: 0,
        lastTicks: 0,
      };
    }
    this.pendingDiscontinuity = false;
    const current = this.open!;
    current.parts.push(part);
    current.durationTicks += input.duration;
    current.lastTicks = input.duration;
    this.expected = { ticks: input.baseDecodeTime + input.duration, timescale: input.timescale };
    return { msn: current.entry.msn, part: current.parts.length - 1, ...(closed ? { closed } : {}) };
  }

  /** The producer ended for good: closes the open segment. */
  /**
   * Closes the open segment. `ended` (the default) marks the timeline ended (EXT-X-ENDLIST); a handover to another
   * producer (an ingest task draining its publishers to another task) leaves it open, since players that saw
   * ENDLIST stop reloading and would never see the stream continue.
   */
  finish(ended = true): SegmentEntry | undefined {
    const closed = this.open === undefined ? undefined : this.closeOpen();
    if (ended) this.ended = true;
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
      broadcast: this.broadcast,
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
      broadcast: open.entry.broadcast,
      durationS: open.parts.reduce((sum, p) => sum + p.durationS, 0),
      programDateTimeMs: open.entry.programDateTimeMs,
      discontinuity: open.entry.discontinuity,
      initVersion: open.entry.initVersion,
      bytes: open.parts.reduce((sum, p) => sum + p.bytes, 0),
      partCount: open.parts.length,
      ...(open.entry.dependentStart ? { dependentStart: true as const } : {}),
      parts: open.parts,
    };
    this.segments.push(segment);
    while (this.segments.length > this.windowSegments) {
      const leaving = this.segments.shift()!;
      this.mediaSequence = leaving.msn + 1;
      // DISCONTINUITY-SEQUENCE counts the discontinuities before the first listed segment.
      if (leaving.discontinuity) this.discontinuitySequence++;
    }
    // Parts stay listed only on segments that start within PART_RETENTION_TARGETS target durations of the end,
    // measured after the window moved: a long segment leaving it can lower the target duration.
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
    return segment;
  }
}
