import type { MediaPath } from '../contracts/names.js';
import { lastPosition, nextPart, type RenditionTimeline } from './timeline.js';

/**
 * Blocking reload and held media: which delivery directives a playlist request may carry, when the requested
 * segment or part is there, and how long a request for media not yet stored may wait for it.
 */

/** A blocking playlist request is answered 503 after this many target durations (spec: "about three"). */
export const BLOCKING_TIMEOUT_TARGETS = 3;
/** A request for the preload-hinted part is held at most this many part targets. */
export const HINTED_PART_WAIT_PARTS = 3;
/** A request for the segment being built is held at most this many target durations. */
export const OPEN_SEGMENT_WAIT_TARGETS = 2;

/**
 * Delivery directives in canonical decimal form only: no sign, no spaces, no leading zeros (but "0" itself), at most
 * 15 digits (a safe integer). `_HLS_msn` and `_HLS_part` are part of CloudFront's cache key (PLAYLIST_CACHE_KEY_QUERY),
 * so accepting `007` next to `7` would let a client mint endless keys for one playlist and miss the cache every time;
 * refused spellings get a 400 (cached 1 s) instead of an origin round trip each.
 */
const CANONICAL_UNSIGNED = /^(?:0|[1-9]\d{0,14})$/;

export type DeliveryDirectives =
  | { msn?: number; part?: number; skip: boolean }
  | { error: string; field: '_HLS_msn' | '_HLS_part' | '_HLS_skip' };

/** Delivery directives; every malformed one is a 400 naming the parameter. */
export function parseDirectives(query: Readonly<Record<string, string>>): DeliveryDirectives {
  const rawMsn = query._HLS_msn;
  const rawPart = query._HLS_part;
  const rawSkip = query._HLS_skip;
  if (rawMsn !== undefined && !CANONICAL_UNSIGNED.test(rawMsn)) {
    return { field: '_HLS_msn', error: `_HLS_msn ${canonicalRule(rawMsn)}` };
  }
  if (rawPart !== undefined && !CANONICAL_UNSIGNED.test(rawPart)) {
    return { field: '_HLS_part', error: `_HLS_part ${canonicalRule(rawPart)}` };
  }
  if (rawPart !== undefined && rawMsn === undefined) {
    return { field: '_HLS_part', error: '_HLS_part requires _HLS_msn' };
  }
  if (rawSkip !== undefined && rawSkip !== 'YES' && rawSkip !== 'v2') {
    return { field: '_HLS_skip', error: `_HLS_skip must be YES or v2, got ${JSON.stringify(rawSkip)}` };
  }
  return {
    ...(rawMsn === undefined ? {} : { msn: Number(rawMsn) }),
    ...(rawPart === undefined ? {} : { part: Number(rawPart) }),
    skip: rawSkip !== undefined,
  };
}

/** The error text for a directive value that is not a canonical non-negative integer (the value shown truncated). */
function canonicalRule(raw: string): string {
  const shown = JSON.stringify(raw.length > 20 ? `${raw.slice(0, 20)}...` : raw);
  return `must be a non-negative integer in canonical form (digits only, no leading zeros, at most 15), got ${shown}`;
}

/** How long a blocking playlist request may wait before its 503. */
export function blockingTimeoutMs(timeline: RenditionTimeline): number {
  return BLOCKING_TIMEOUT_TARGETS * timeline.targetDurationS * 1000;
}

/** Blocking reload (`_HLS_msn`, `_HLS_part`): is the requested segment or part in the playlist yet? */
export function satisfies(timeline: RenditionTimeline, msn: number, part?: number): boolean {
  if (timeline.ended) return true;
  const open = timeline.open;
  const openMsn = open?.msn ?? (timeline.segments.at(-1)?.msn ?? timeline.mediaSequence - 1) + 1;
  const openParts = open?.parts.length ?? 0;
  if (part === undefined) return openMsn > msn; // segment msn is complete
  if (openMsn === msn) return openParts > part;
  if (openMsn < msn) return false;
  const segment = timeline.segments.find((s) => s.msn === msn);
  if (segment === undefined || part < segment.partCount) return true;
  // A part index past the end of a complete segment means the first part of the next one.
  return openMsn > msn + 1 || openParts > 0;
}

/** Why a blocking request is refused at once (400), naming the parameter; undefined when it may wait. */
export function blockingRequestError(
  timeline: RenditionTimeline,
  msn: number,
  part: number | undefined,
): { field: '_HLS_msn' | '_HLS_part'; message: string } | undefined {
  const lastMsn = lastPosition(timeline)?.msn ?? timeline.mediaSequence - 1;
  if (msn > lastMsn + 2) {
    return {
      field: '_HLS_msn',
      message: `_HLS_msn=${msn} is more than 2 beyond the last segment (${lastMsn})`,
    };
  }
  const maxParts = maxPartsPerSegment(timeline);
  if (part !== undefined && part >= maxParts) {
    return {
      field: '_HLS_part',
      message: `_HLS_part=${part} is beyond any segment (at most ${maxParts} parts)`,
    };
  }
  return undefined;
}

/** Upper bound on part indexes: twice the parts a target duration holds (segments may run long without a keyframe). */
export function maxPartsPerSegment(timeline: RenditionTimeline): number {
  return 2 * Math.ceil(timeline.targetDurationS / timeline.partTargetS);
}

/**
 * Is this media object named in the live state (so its bytes are stored)? Each listed segment carries its broadcast
 * (decision D16): an msn listed under another broadcast is another object.
 */
export function published(t: RenditionTimeline, path: MediaPath): boolean {
  const open = t.open?.broadcast === path.broadcast ? t.open : undefined;
  const listed = (msn: number) => t.segments.find((s) => s.msn === msn && s.broadcast === path.broadcast);
  switch (path.kind) {
    case 'init':
      if (path.broadcast === t.broadcast) return t.initVersion >= path.version;
      return [...t.segments, ...(open ? [open] : [])].some(
        (s) => s.broadcast === path.broadcast && s.initVersion >= path.version,
      );
    case 'segment': {
      // A segment not listed under any broadcast (between two listed ones) was closed by this broadcast's open one.
      const anyBroadcast = t.segments.some((s) => s.msn === path.msn);
      return listed(path.msn) !== undefined || (!anyBroadcast && open !== undefined && open.msn > path.msn);
    }
    case 'part': {
      if (open?.msn === path.msn) return path.part < open.parts.length;
      const segment = listed(path.msn);
      return segment !== undefined && path.part < segment.partCount;
    }
  }
}

/**
 * How long to hold a request for a media object not yet stored; undefined if it is not about to be published.
 * Only the rendition's current broadcast is about to publish anything: a name of another broadcast is answered
 * from storage alone (404 if absent), so a player still asking for a broadcast that ended is not held.
 */
export function holdFor(t: RenditionTimeline, path: MediaPath): number | undefined {
  if (t.ended || path.broadcast !== t.broadcast) return undefined;
  const partWaitMs = HINTED_PART_WAIT_PARTS * t.partTargetS * 1000;
  const open = t.open;
  switch (path.kind) {
    case 'part': {
      const hinted = nextPart(t);
      const isHint = path.msn === hinted.msn && path.part === hinted.part;
      // The hint guesses whether the next part starts a segment; accept either guess.
      const isNextInOpen = open !== undefined && path.msn === open.msn && path.part === open.parts.length;
      const isNextSegment =
        path.part === 0 && path.msn === (open?.msn ?? t.segments.at(-1)?.msn ?? t.mediaSequence - 1) + 1;
      return isHint || isNextInOpen || isNextSegment || published(t, path) ? partWaitMs : undefined;
    }
    case 'segment':
      return open !== undefined && path.msn === open.msn
        ? OPEN_SEGMENT_WAIT_TARGETS * t.targetDurationS * 1000
        : published(t, path)
          ? partWaitMs
          : undefined;
    case 'init':
      return path.version === t.initVersion + 1 || published(t, path) ? partWaitMs : undefined;
  }
}
