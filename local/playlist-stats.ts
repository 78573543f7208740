/**
 * What the status line needs from a media playlist, read without a full parser: the newest part's
 * end time on the ingest clock (from EXT-X-PROGRAM-DATE-TIME plus the durations after it) and the
 * newest part's position, so parts per second can be counted between two polls.
 */
export interface PlaylistPosition {
  /** Wall-clock ms at which the newest listed media (part or segment) ends, per PROGRAM-DATE-TIME. */
  readonly liveEdgeMs?: number;
  /** Media sequence number of the newest part's segment and its part index (-1 when no part is listed). */
  readonly lastMsn: number;
  readonly lastPart: number;
  /** Every part listed, as msn/index pairs. */
  readonly parts: readonly (readonly [number, number])[];
  /**
   * Every segment listed, oldest first: complete ones with their EXTINF duration, the open one (the
   * live end, parts only) without. `parts` is how many EXT-X-PART lines it still carries: the packager
   * drops them from segments older than three target durations (PART_RETENTION_TARGETS).
   */
  readonly segments: readonly SegmentSummary[];
  readonly partTargetS?: number;
  readonly targetDurationS?: number;
}

export interface SegmentSummary {
  readonly msn: number;
  /** EXTINF seconds; undefined for the open segment at the live end. */
  readonly durationS?: number;
  readonly parts: number;
}

function attribute(line: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|[:,])${name}=("[^"]*"|[^,]*)`).exec(line);
  return match?.[1]?.replace(/^"|"$/g, '');
}

export function readPlaylistPosition(text: string): PlaylistPosition {
  let msn = 0;
  let partIndex = 0;
  let clockMs: number | undefined;
  let liveEdgeMs: number | undefined;
  let lastMsn = -1;
  let lastPart = -1;
  let partTargetS: number | undefined;
  let targetDurationS: number | undefined;
  let extinfS: number | undefined;
  const parts: [number, number][] = [];
  const segments: SegmentSummary[] = [];
  // PDT on a segment is the start of that segment; parts and EXTINF advance the clock.
  let segmentStartMs: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDurationS = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PART-INF:')) partTargetS = Number(attribute(line, 'PART-TARGET'));
    else if (line.startsWith('#EXT-X-SKIP:')) msn += Number(attribute(line, 'SKIPPED-SEGMENTS') ?? 0);
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      segmentStartMs = Date.parse(line.slice(25));
      clockMs = segmentStartMs;
    } else if (line.startsWith('#EXT-X-PART:')) {
      const duration = Number(attribute(line, 'DURATION') ?? 0);
      if (clockMs !== undefined) clockMs += duration * 1000;
      liveEdgeMs = clockMs;
      parts.push([msn, partIndex]);
      lastMsn = msn;
      lastPart = partIndex;
      partIndex++;
    } else if (line.startsWith('#EXTINF:')) {
      const duration = Number(line.slice(8).split(',')[0]);
      extinfS = duration;
      if (segmentStartMs !== undefined) clockMs = segmentStartMs + duration * 1000;
      liveEdgeMs = clockMs ?? liveEdgeMs;
    } else if (line !== '' && !line.startsWith('#')) {
      // A segment URI closes the segment: the next one starts where it ended.
      segments.push({ msn, durationS: extinfS, parts: partIndex });
      msn++;
      partIndex = 0;
      extinfS = undefined;
      segmentStartMs = clockMs;
    }
  }
  if (partIndex > 0) segments.push({ msn, parts: partIndex });
  return { liveEdgeMs, lastMsn, lastPart, parts, segments, partTargetS, targetDurationS };
}

/**
 * Parts published between two polls of the same playlist: those after `before`'s newest part.
 *
 * Counting only the EXT-X-PART lines of `now` undercounts whenever the polls are further apart than
 * the part retention (three target durations, 3 s at the default 1 s TARGETDURATION): the status
 * line polls every 5 s, so about 3.5 s of the 5 s still carried parts and it read ~7 parts/s instead
 * of 10. A complete segment whose parts were dropped counts EXTINF / PART-TARGET parts (every part
 * but a segment's last lasts PART-TARGET, the packager raises PART-TARGET if one runs longer), and
 * segments that left the window altogether count as the complete segments still in view on average.
 */
export function newParts(before: PlaylistPosition | undefined, now: PlaylistPosition): number {
  if (before === undefined) return 0;
  const lastBefore = before.segments.at(-1);
  // Where `before` ended: its newest part, or (no part listed) the whole of its newest segment.
  const fromMsn = before.lastMsn >= 0 ? before.lastMsn : (lastBefore?.msn ?? -1);
  const countedInFromMsn = before.lastMsn >= 0 ? before.lastPart + 1 : Number.POSITIVE_INFINITY;
  const partsOf = (segment: SegmentSummary): number => {
    if (segment.parts > 0 || segment.durationS === undefined) return segment.parts;
    const partTargetS = now.partTargetS;
    return partTargetS !== undefined && partTargetS > 0
      ? Math.max(1, Math.round(segment.durationS / partTargetS))
      : 0;
  };
  let count = 0;
  for (const segment of now.segments) {
    if (segment.msn < fromMsn) continue;
    const already = segment.msn === fromMsn ? countedInFromMsn : 0;
    count += Math.max(0, partsOf(segment) - already);
  }
  const firstNow = now.segments[0]?.msn;
  const complete = now.segments.filter((s) => s.durationS !== undefined);
  if (firstNow !== undefined && fromMsn >= 0 && firstNow > fromMsn && complete.length > 0) {
    const average = complete.reduce((sum, s) => sum + partsOf(s), 0) / complete.length;
    const restOfFromMsn = Number.isFinite(countedInFromMsn) ? Math.max(0, average - countedInFromMsn) : 0;
    count += Math.round((firstNow - fromMsn - 1) * average + restOfFromMsn);
  }
  return count;
}

/** One poll of a stream's playlist: what it showed and when (epoch ms). */
export interface PlaylistPoll {
  readonly position: PlaylistPosition;
  readonly atMs: number;
}

/**
 * The status line's figures from a poll and the one before it: latency (the poll's time minus the live
 * edge's PROGRAM-DATE-TIME) and parts per second since the previous poll. Undefined where not known yet.
 */
export function playlistFigures(
  poll: PlaylistPoll,
  before: PlaylistPoll | undefined,
): { latencyMs?: number; partsPerSecond?: number } {
  const { position, atMs } = poll;
  return {
    latencyMs: position.liveEdgeMs === undefined ? undefined : atMs - position.liveEdgeMs,
    partsPerSecond:
      before !== undefined && atMs > before.atMs
        ? (newParts(before.position, position) * 1000) / (atMs - before.atMs)
        : undefined,
  };
}
