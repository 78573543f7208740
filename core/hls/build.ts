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

/** URIs relative to the media playlist, matching the storage keys of decision D2. */
export const mediaUris = {
  init: (version: number) => `init-${version}.mp4`,
  segment: (msn: number) => `seg-${msn}.m4s`,
  part: (msn: number, part: number) => `part-${msn}-${part}.m4s`,
  playlist: 'playlist.m3u8',
  sibling: (rendition: string) => `../${rendition}/playlist.m3u8`,
};

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

const toParts = (msn: number, parts: readonly PartEntry[]): Part[] =>
  parts.map((p, i) => ({ uri: mediaUris.part(msn, i), durationS: p.durationS, independent: p.independent }));

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
  const segments: MediaSegment[] = [];
  let previousInit: number | undefined;
  timeline.segments.forEach((s, index) => {
    const showMap = s.initVersion !== previousInit;
    previousInit = s.initVersion;
    if (index < skipped) return;
    segments.push({
      uri: mediaUris.segment(s.msn),
      durationS: s.durationS,
      discontinuity: s.discontinuity,
      ...(showMap || index === skipped ? { map: { uri: mediaUris.init(s.initVersion) } } : {}),
      programDateTimeMs: s.programDateTimeMs,
      parts: toParts(s.msn, s.parts ?? []),
    });
  });
  const open = timeline.open;
  const position = lastPosition(timeline);
  const next = nextPart(timeline);
  const reports: RenditionReport[] = (options.siblings ?? []).flatMap((sibling) => {
    const at = lastPosition(sibling.timeline);
    if (at === undefined) return [];
    return [
      {
        uri: mediaUris.sibling(sibling.name),
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
      partHoldBackS: PART_HOLD_BACK_PARTS * timeline.partTargetS,
    },
    partInf: { partTargetS: timeline.partTargetS },
    mediaSequence: timeline.segments[0]?.msn ?? open?.msn ?? timeline.mediaSequence,
    discontinuitySequence: timeline.discontinuitySequence,
    ...(skipped > 0 ? { skip: { skippedSegments: skipped } } : {}),
    segments,
    ...(open !== undefined && open.parts.length > 0
      ? {
          open: {
            discontinuity: open.discontinuity,
            ...(open.initVersion !== previousInit ? { map: { uri: mediaUris.init(open.initVersion) } } : {}),
            programDateTimeMs: open.programDateTimeMs,
            parts: toParts(open.msn, open.parts),
          },
        }
      : {}),
    preloadHints:
      timeline.ended || position === undefined
        ? []
        : [{ type: 'PART', uri: mediaUris.part(next.msn, next.part) }],
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
        uri: `${r.name}/${mediaUris.playlist}`,
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
  return { version: MULTIVARIANT_PLAYLIST_VERSION, independentSegments: true, variants };
}

/** Blocking reload (`_HLS_msn`, `_HLS_part`): is the requested segment or part in the playlist yet? */
export function satisfies(timeline: RenditionTimeline, msn: number, part?: number): boolean {
  if (timeline.ended) return true;
  const open = timeline.open;
  const openMsn = open?.msn ?? (timeline.segments.at(-1)?.msn ?? -1) + 1;
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
  const lastMsn = lastPosition(timeline)?.msn ?? -1;
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
