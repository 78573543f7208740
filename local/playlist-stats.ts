/**
 * What the status line needs from a media playlist, read without a full parser: the newest part's
 * end time on the ingest clock (from EXT-X-PROGRAM-DATE-TIME plus the durations after it) and the
 * newest part's position, so parts per second can be counted between two polls.
 */
export interface PlaylistPosition {
  /** Wall-clock ms at which the newest listed media (part or segment) ends, per PROGRAM-DATE-TIME. */
  readonly liveEdgeMs?: number;
  /** Media sequence number of the newest part's segment and its part index. */
  readonly lastMsn: number;
  readonly lastPart: number;
  /** Every part listed, as msn/index pairs, for counting new parts between polls. */
  readonly parts: readonly (readonly [number, number])[];
  readonly partTargetS?: number;
  readonly targetDurationS?: number;
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
  const parts: [number, number][] = [];
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
      if (segmentStartMs !== undefined) clockMs = segmentStartMs + duration * 1000;
      liveEdgeMs = clockMs ?? liveEdgeMs;
    } else if (line !== '' && !line.startsWith('#')) {
      // A segment URI closes the segment: the next one starts where it ended.
      msn++;
      partIndex = 0;
      segmentStartMs = clockMs;
    }
  }
  return { liveEdgeMs, lastMsn, lastPart, parts, partTargetS, targetDurationS };
}

/** Parts listed in `now` that were not yet in `before` (by msn/index). */
export function newParts(before: PlaylistPosition | undefined, now: PlaylistPosition): number {
  if (before === undefined) return 0;
  return now.parts.filter(([m, p]) => m > before.lastMsn || (m === before.lastMsn && p > before.lastPart))
    .length;
}
