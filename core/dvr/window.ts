import { dvrVariantUri } from '../contracts/names.js';
import type { MediaPlaylist, MultivariantPlaylist, StreamInf } from '../hls/model.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../hls/render.js';

/**
 * The DVR time-shift window (decision D43), pure: a sliding media playlist over long DVR segments, each several
 * live segments concatenated (core/recordings/chunking.ts cuts them at keyframes), so a 4 h window is 2,400 entries
 * whatever the live part and segment targets are. No EXT-X-PLAYLIST-TYPE (EVENT forbids removing segments), no
 * EXT-X-ENDLIST: a live playlist whose oldest entries drop off at the window's start, with EXT-X-MEDIA-SEQUENCE and
 * EXT-X-DISCONTINUITY-SEQUENCE counting what dropped (RFC 8216bis 6.2.2).
 */

/** DVR segment duration at the default 4 h window: 2,400 entries, one playlist reload and one segment per 6 s. */
export const DVR_SEGMENT_MS = 6_000;
/** Entries a window is sized for: 4 h of 6 s segments; longer windows get longer segments. */
export const DVR_PLAYLIST_ENTRIES = 2_400;
/** Short windows (tests, small stages) still get this many segments to seek among. */
export const MIN_DVR_SEGMENTS_PER_WINDOW = 10;
/**
 * The hard bound on listed entries: short segments (transcoder restarts and reconnects close a segment early) can
 * outnumber DVR_PLAYLIST_ENTRIES; past this the oldest drop even inside the window, so size stays bounded.
 */
export const MAX_DVR_ENTRIES = 3_000;
/** EXT-X-MAP in a media playlist needs version 6 (RFC 8216bis 7). */
const DVR_PLAYLIST_VERSION = 6;

/**
 * A rendition's DVR segment target for a window of `windowS`: 6 s, shorter for windows under a minute (at least 10
 * segments per window) and longer for windows over 4 h (at most 2,400 segments).
 */
export function dvrSegmentTargetMs(windowS: number): number {
  const windowMs = windowS * 1000;
  return Math.ceil(
    Math.max(
      Math.min(DVR_SEGMENT_MS, windowMs / MIN_DVR_SEGMENTS_PER_WINDOW),
      windowMs / DVR_PLAYLIST_ENTRIES,
    ),
  );
}

/** One DVR segment as its rendition's DVR playlist lists it. */
export interface DvrEntry {
  /** Relative to the DVR playlist: `{broadcast}/dvr-{n}.m4s`. */
  readonly uri: string;
  /** The init segment it decodes with, relative the same way. */
  readonly mapUri: string;
  readonly durationS: number;
  /** Wall clock of its first frame (EXT-X-PROGRAM-DATE-TIME, the live playlist's clock, D8), epoch ms. */
  readonly startMs: number;
  /** A transcoder restart or a reconnect precedes it: EXT-X-DISCONTINUITY. */
  readonly discontinuity: boolean;
}

export interface DvrWindowState {
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  readonly entries: readonly DvrEntry[];
}

export const EMPTY_DVR_WINDOW: DvrWindowState = { mediaSequence: 0, discontinuitySequence: 0, entries: [] };

/** The window of one rendition: add what was stored, read the playlist. */
export class DvrWindow {
  private mediaSequence: number;
  private discontinuitySequence: number;
  private readonly entries: DvrEntry[];
  private targetDurationS: number;

  constructor(
    readonly windowMs: number,
    segmentTargetMs: number,
    state: DvrWindowState = EMPTY_DVR_WINDOW,
  ) {
    this.mediaSequence = state.mediaSequence;
    this.discontinuitySequence = state.discontinuitySequence;
    this.entries = [...state.entries];
    this.targetDurationS = Math.max(1, Math.ceil(segmentTargetMs / 1000));
    for (const e of this.entries) this.widenTarget(e);
  }

  get state(): DvrWindowState {
    return {
      mediaSequence: this.mediaSequence,
      discontinuitySequence: this.discontinuitySequence,
      entries: [...this.entries],
    };
  }

  get length(): number {
    return this.entries.length;
  }

  /** Lists a stored segment; entries wholly before the window's start (the newest end minus the window) drop. */
  add(entry: DvrEntry): void {
    this.entries.push(entry);
    this.widenTarget(entry);
    const start = entry.startMs + entry.durationS * 1000 - this.windowMs;
    while (
      this.entries.length > MAX_DVR_ENTRIES ||
      (this.entries.length > 1 && endMs(this.entries[0]!) <= start)
    ) {
      const dropped = this.entries.shift()!;
      this.mediaSequence += 1;
      // RFC 8216bis 4.4.3.3: the discontinuity sequence counts the EXT-X-DISCONTINUITY tags removed.
      if (dropped.discontinuity) this.discontinuitySequence += 1;
    }
  }

  playlist(): MediaPlaylist {
    let map: string | undefined;
    const segments = this.entries.map((e, i) => {
      const newMap = e.mapUri !== map;
      map = e.mapUri;
      return {
        uri: e.uri,
        durationS: e.durationS,
        discontinuity: e.discontinuity,
        ...(newMap ? { map: { uri: e.mapUri } } : {}),
        // Only where the timeline restarts: players carry the date on by EXTINF, and 40 bytes x 2,400 lines is not free.
        ...(i === 0 || e.discontinuity ? { programDateTimeMs: e.startMs } : {}),
        parts: [],
      };
    });
    return {
      version: DVR_PLAYLIST_VERSION,
      targetDurationS: this.targetDurationS,
      mediaSequence: this.mediaSequence,
      discontinuitySequence: this.discontinuitySequence,
      segments,
      preloadHints: [],
      renditionReports: [],
      endList: false,
    };
  }

  render(): string {
    return renderMediaPlaylist(this.playlist());
  }

  /** TARGETDURATION is at least every EXTINF rounded (RFC 8216bis 4.4.3.1); it only grows. */
  private widenTarget(e: DvrEntry): void {
    this.targetDurationS = Math.max(this.targetDurationS, Math.round(e.durationS));
  }
}

const endMs = (e: DvrEntry) => e.startMs + e.durationS * 1000;

/**
 * Pure: reads back a DVR playlist this module rendered (the stored playlist is the window's only state, so an
 * ingest task that takes a stream over continues its sequence numbers). Undefined for anything else.
 */
export function parseDvrPlaylist(text: string): DvrWindowState | undefined {
  const lines = text.split('\n');
  if (lines[0] !== '#EXTM3U') return undefined;
  let mediaSequence = 0;
  let discontinuitySequence = 0;
  const entries: DvrEntry[] = [];
  let map: string | undefined;
  let pdt: number | undefined;
  let discontinuity = false;
  let duration: number | undefined;
  for (const line of lines) {
    const [tag, value = ''] = splitTag(line);
    if (tag === '#EXT-X-MEDIA-SEQUENCE') mediaSequence = Number(value);
    else if (tag === '#EXT-X-DISCONTINUITY-SEQUENCE') discontinuitySequence = Number(value);
    else if (tag === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (tag === '#EXT-X-MAP') map = /URI="([^"]*)"/.exec(value)?.[1];
    else if (tag === '#EXT-X-PROGRAM-DATE-TIME') pdt = Date.parse(value);
    else if (tag === '#EXTINF') duration = Number.parseFloat(value);
    else if (line !== '' && !line.startsWith('#')) {
      const previous = entries.at(-1);
      const startMs = pdt ?? (previous === undefined ? Number.NaN : endMs(previous));
      if (duration === undefined || map === undefined || !Number.isFinite(startMs)) return undefined;
      entries.push({ uri: line, mapUri: map, durationS: duration, startMs, discontinuity });
      pdt = undefined;
      discontinuity = false;
      duration = undefined;
    }
  }
  if (!Number.isSafeInteger(mediaSequence) || !Number.isSafeInteger(discontinuitySequence)) return undefined;
  return { mediaSequence, discontinuitySequence, entries: entries.slice(-MAX_DVR_ENTRIES) };
}

function splitTag(line: string): [string, string?] {
  const colon = line.indexOf(':');
  return line.startsWith('#') && colon > 0 ? [line.slice(0, colon), line.slice(colon + 1)] : [line];
}

/** One rendition as the DVR multivariant lists it. */
export interface DvrVariant {
  readonly rendition: string;
  /** Peak bits per second of its DVR segments. */
  readonly bandwidth: number;
  readonly averageBandwidth?: number;
  readonly codecs: readonly string[];
}

/** Pure: `/{stream}/dvr.m3u8`, highest bandwidth first, each variant its rendition's DVR playlist. */
export function dvrMultivariant(variants: readonly DvrVariant[]): MultivariantPlaylist {
  const listed: StreamInf[] = [...variants]
    .sort((a, b) => b.bandwidth - a.bandwidth)
    .map((v) => ({
      uri: dvrVariantUri(v.rendition),
      bandwidth: v.bandwidth,
      ...(v.averageBandwidth === undefined ? {} : { averageBandwidth: v.averageBandwidth }),
      codecs: v.codecs,
    }));
  return { version: DVR_PLAYLIST_VERSION, independentSegments: true, variants: listed };
}

export const renderDvrMultivariant = (variants: readonly DvrVariant[]): string =>
  renderMultivariantPlaylist(dvrMultivariant(variants));

/**
 * A variant's BANDWIDTH, rounded up to the next 100 kbit/s step so the multivariant is rewritten only when a rung's
 * peak moves by a step, not at every segment.
 */
export function bandwidthStep(bps: number): number {
  return Math.max(100_000, Math.ceil(bps / 100_000) * 100_000);
}
