import { recordingFiles, recordingVariantUri } from '../contracts/names.js';

/** One chunk as its rendition's VOD playlist lists it. */
export interface ListedChunk {
  readonly index: number;
  readonly durationS: number;
  readonly initVersion: number;
  readonly discontinuity: boolean;
  readonly bytes: number;
}

/** Most chunks one rendition's recording lists: 20,000 x 6 s is 33 h, the recorder's memory bound. */
export const MAX_LISTED_CHUNKS = 20_000;

const seconds = (s: number) => s.toFixed(3);

/**
 * Pure: a rendition's VOD media playlist (RFC 8216 s4.3.3.5): every chunk, an EXT-X-MAP before the first and at
 * each new init, EXT-X-DISCONTINUITY at each producer restart, EXT-X-ENDLIST. URIs are relative to the playlist,
 * which sits in the broadcast's folder with the chunks.
 */
export function renderVodPlaylist(chunks: readonly ListedChunk[]): string {
  const target = Math.max(1, ...chunks.map((c) => Math.round(c.durationS)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let map: number | undefined;
  for (const c of chunks) {
    if (c.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (c.initVersion !== map) {
      lines.push(`#EXT-X-MAP:URI="${recordingFiles.init(c.initVersion)}"`);
      map = c.initVersion;
    }
    lines.push(`#EXTINF:${seconds(c.durationS)},`, recordingFiles.chunk(c.index));
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export interface RecordedRendition {
  readonly rendition: string;
  readonly chunks: readonly ListedChunk[];
  /** RFC 6381 codecs of its init segment, when known. */
  readonly codecs: readonly string[];
}

/** Measured bandwidths (RFC 8216 s4.3.4.2): the largest chunk's bitrate and the whole recording's. */
export function measuredBandwidth(chunks: readonly ListedChunk[]): { peak: number; average: number } {
  let peak = 0;
  let bytes = 0;
  let durationS = 0;
  for (const c of chunks) {
    if (c.durationS > 0) peak = Math.max(peak, (c.bytes * 8) / c.durationS);
    bytes += c.bytes;
    durationS += c.durationS;
  }
  return { peak: Math.ceil(peak), average: durationS > 0 ? Math.ceil((bytes * 8) / durationS) : 0 };
}

/** Pure: the recording's multivariant playlist, highest bandwidth first; renditions without chunks are left out. */
export function renderRecordingMultivariant(
  broadcast: string,
  renditions: readonly RecordedRendition[],
): string {
  const variants = renditions
    .filter((r) => r.chunks.length > 0)
    .map((r) => ({ ...r, bw: measuredBandwidth(r.chunks) }))
    .sort((a, b) => b.bw.peak - a.bw.peak);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    const codecs = v.codecs.length > 0 ? `,CODECS="${v.codecs.join(',')}"` : '';
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, v.bw.peak)},AVERAGE-BANDWIDTH=${Math.max(1, v.bw.average)}${codecs}`,
      recordingVariantUri(v.rendition, broadcast),
    );
  }
  lines.push('');
  return lines.join('\n');
}
