// A media playlist sits in its rendition's folder, so media URIs are `{broadcast}/{file}` (decisions D2, D16).
import { playlistUris, renditionFiles } from '../contracts/names.js';
import {
  CAN_SKIP_UNTIL_TARGETS,
  HOLD_BACK_TARGETS,
  MEDIA_PLAYLIST_VERSION,
  MULTIVARIANT_PLAYLIST_VERSION,
  PART_HOLD_BACK_PARTS,
} from './constants.js';
import type {
  MediaPlaylist,
  MediaSegment,
  MultivariantPlaylist,
  Part,
  RenditionReport,
  StreamInf,
} from './model.js';
import { lastPosition, nextPart, type PartEntry, type RenditionTimeline } from './timeline.js';

export interface SiblingRendition {
  readonly name: string;
  readonly timeline: RenditionTimeline;
}

export interface MediaPlaylistOptions {
  /** `_HLS_skip=YES`: replace the segments older than CAN-SKIP-UNTIL with EXT-X-SKIP. */
  readonly skip?: boolean;
  /** Every other rendition of the stream, for EXT-X-RENDITION-REPORT. */
  readonly siblings?: readonly SiblingRendition[];
}

/**
 * PART-TARGET as rendered (millisecond precision), rounded up: parts of whole frames are not whole milliseconds
 * (4 frames at 30 fps are 133.33 ms, decision D28), and rounding to nearest would put 0.133 under the parts' true
 * length and PART-HOLD-BACK (3 x 0.26667 = 0.800 for 8 frames) under 3 x the 0.267 the playlist shows.
 */
export function renderedPartTargetS(partTargetS: number): number {
  return Math.ceil(partTargetS * 1000 - 1e-6) / 1000;
}

const toParts = (broadcast: string, msn: number, parts: readonly PartEntry[]): Part[] =>
  parts.map((p, i) => ({
    uri: renditionFiles.part(broadcast, msn, i),
    durationS: p.durationS,
    independent: p.independent,
  }));

/** Seconds of the playlist from segment `index` (inclusive) to the live end, open parts included. */
function durationsFromEnd(timeline: RenditionTimeline): number[] {
  let remaining = (timeline.open?.parts ?? []).reduce((sum, p) => sum + p.durationS, 0);
  const out = new Array<number>(timeline.segments.length);
  for (let i = timeline.segments.length - 1; i >= 0; i--) {
    out[i] = remaining; // seconds after the end of segment i
    remaining += timeline.segments[i]!.durationS;
  }
  return out;
}

/** How many leading segments a delta update omits: those ending at least CAN-SKIP-UNTIL before the live end. */
export function skippableSegments(timeline: RenditionTimeline): number {
  const canSkipUntilS = CAN_SKIP_UNTIL_TARGETS * timeline.targetDurationS;
  const afterEnd = durationsFromEnd(timeline);
  let count = 0;
  while (count < timeline.segments.length - 1 && afterEnd[count]! >= canSkipUntilS) count++;
  return count;
}

export function buildMediaPlaylist(
  timeline: RenditionTimeline,
  options: MediaPlaylistOptions = {},
): MediaPlaylist {
  const skipped = options.skip ? skippableSegments(timeline) : 0;
  const open = timeline.open;
  const segments: MediaSegment[] = [];
  // An init segment is named by its broadcast and version: EXT-X-MAP appears where either changes.
  let previousInit: string | undefined;
  timeline.segments.forEach((s, index) => {
    const init = renditionFiles.init(s.broadcast, s.initVersion);
    const showMap = init !== previousInit;
    previousInit = init;
    if (index < skipped) return;
    segments.push({
      uri: renditionFiles.segment(s.broadcast, s.msn),
      durationS: s.durationS,
      discontinuity: s.discontinuity,
      ...(showMap || index === skipped ? { map: { uri: init } } : {}),
      programDateTimeMs: s.programDateTimeMs,
      parts: toParts(s.broadcast, s.msn, s.parts ?? []),
    });
  });
  const openInit = open === undefined ? undefined : renditionFiles.init(open.broadcast, open.initVersion);
  const position = lastPosition(timeline);
  const next = nextPart(timeline);
  const reports: RenditionReport[] = (options.siblings ?? []).flatMap((sibling) => {
    const at = lastPosition(sibling.timeline);
    if (at === undefined) return [];
    return [
      {
        uri: playlistUris.sibling(sibling.name),
        lastMsn: at.msn,
        ...(at.part === undefined ? {} : { lastPart: at.part }),
      },
    ];
  });
  return {
    version: MEDIA_PLAYLIST_VERSION,
    targetDurationS: timeline.targetDurationS,
    serverControl: {
      canBlockReload: true,
      canSkipUntilS: CAN_SKIP_UNTIL_TARGETS * timeline.targetDurationS,
      holdBackS: HOLD_BACK_TARGETS * timeline.targetDurationS,
      partHoldBackS: PART_HOLD_BACK_PARTS * renderedPartTargetS(timeline.partTargetS),
    },
    partInf: { partTargetS: renderedPartTargetS(timeline.partTargetS) },
    mediaSequence: timeline.segments[0]?.msn ?? open?.msn ?? timeline.mediaSequence,
    discontinuitySequence: timeline.discontinuitySequence,
    ...(skipped > 0 ? { skip: { skippedSegments: skipped } } : {}),
    segments,
    ...(open !== undefined && open.parts.length > 0
      ? {
          open: {
            discontinuity: open.discontinuity,
            ...(openInit !== previousInit ? { map: { uri: openInit! } } : {}),
            programDateTimeMs: open.programDateTimeMs,
            parts: toParts(open.broadcast, open.msn, open.parts),
          },
        }
      : {}),
    preloadHints:
      timeline.ended || position === undefined
        ? []
        : [{ type: 'PART', uri: renditionFiles.part(timeline.broadcast, next.msn, next.part) }],
    renditionReports: reports,
    endList: timeline.ended,
  };
}

/** What the multivariant playlist says about one rendition, measured from its init segment and parts. */
export interface RenditionInfo {
  readonly codecs: readonly string[];
  readonly width?: number;
  readonly height?: number;
  readonly frameRate?: number;
}

/** Peak and average bits per second over the complete segments in the window (open parts if none). */
export function measureBandwidth(timeline: RenditionTimeline): { peak: number; average: number } | undefined {
  const samples = timeline.segments.map((s) => ({ bytes: s.bytes, durationS: s.durationS }));
  if (samples.length === 0 && timeline.open !== undefined) {
    for (const p of timeline.open.parts) samples.push({ bytes: p.bytes, durationS: p.durationS });
  }
  let peak = 0;
  let bytes = 0;
  let seconds = 0;
  for (const s of samples) {
    if (s.durationS <= 0) continue;
    peak = Math.max(peak, (s.bytes * 8) / s.durationS);
    bytes += s.bytes;
    seconds += s.durationS;
  }
  if (seconds === 0) return undefined;
  return { peak, average: (bytes * 8) / seconds };
}

export interface VariantSource {
  readonly name: string;
  readonly info: RenditionInfo;
  readonly timeline: RenditionTimeline;
}

export function buildMultivariantPlaylist(renditions: readonly VariantSource[]): MultivariantPlaylist {
  const variants: StreamInf[] = renditions.flatMap((r) => {
    const bandwidth = measureBandwidth(r.timeline);
    if (bandwidth === undefined) return [];
    return [
      {
        uri: playlistUris.variant(r.name),
        bandwidth: bandwidth.peak,
        averageBandwidth: bandwidth.average,
        codecs: r.info.codecs,
        ...(r.info.width !== undefined && r.info.height !== undefined
          ? { width: r.info.width, height: r.info.height }
          : {}),
        ...(r.info.frameRate === undefined ? {} : { frameRate: r.info.frameRate }),
      },
    ];
  });
  variants.sort((a, b) => b.bandwidth - a.bandwidth);
  // EXT-X-INDEPENDENT-SEGMENTS promises every segment of every media playlist starts decodable: not so once input
  // without keyframes was cut at the forced-close bound (decision D21).
  const independentSegments = renditions.every(
    (r) => !r.timeline.open?.dependentStart && !r.timeline.segments.some((s) => s.dependentStart),
  );
  return { version: MULTIVARIANT_PLAYLIST_VERSION, independentSegments, variants };
}
