/**
 * Input codec detection from the MPEG-TS program tables (PAT -> PMT -> elementary stream types),
 * so an unsupported feed is refused with a clear status before ffmpeg is started.
 */
export const TS_PACKET_SIZE = 188;
const SYNC_BYTE = 0x47;
const PAT_PID = 0x0000;

/** ISO/IEC 13818-1 stream_type values we act on. */
export const STREAM_TYPE = {
  AAC_ADTS: 0x0f,
  AAC_LATM: 0x11,
  H264: 0x1b,
  HEVC: 0x24,
  MPEG2_VIDEO: 0x02,
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  AC3: 0x81,
  PRIVATE_PES: 0x06,
} as const;

export type VideoCodec = 'h264' | 'hevc';

export interface ElementaryStream {
  readonly pid: number;
  readonly streamType: number;
}

export type ProbeResult =
  | { readonly kind: 'need-more' }
  | {
      readonly kind: 'found';
      readonly video: VideoCodec;
      /** 'aac' (ADTS) or null when there is no audio we can use. */
      readonly audio: 'aac' | null;
      readonly streams: readonly ElementaryStream[];
    }
  | { readonly kind: 'unsupported'; readonly reason: string; readonly streams: readonly ElementaryStream[] }
  | { readonly kind: 'not-ts'; readonly reason: string };

/** Bytes after which a feed without a PMT is declared not to be MPEG-TS. */
export const PROBE_LIMIT_BYTES = 2 * 1024 * 1024;

function syncOffset(bytes: Uint8Array): number {
  for (let i = 0; i < TS_PACKET_SIZE && i < bytes.length; i++) {
    let ok = true;
    for (let k = 0; k < 3 && i + k * TS_PACKET_SIZE < bytes.length; k++) {
      if (bytes[i + k * TS_PACKET_SIZE] !== SYNC_BYTE) ok = false;
    }
    if (ok && i + 2 * TS_PACKET_SIZE < bytes.length) return i;
  }
  return -1;
}

/** The section that starts in this packet's payload (pointer_field honoured); one-packet sections only. */
function sectionOf(packet: Uint8Array): Uint8Array | null {
  const payloadStart = (packet[1]! & 0x40) !== 0;
  if (!payloadStart) return null;
  const adaptation = (packet[3]! >> 4) & 0x3;
  let offset = 4;
  if (adaptation === 2) return null;
  if (adaptation === 3) offset += 1 + packet[4]!;
  if (offset >= TS_PACKET_SIZE) return null;
  offset += 1 + packet[offset]!;
  if (offset + 3 > TS_PACKET_SIZE) return null;
  const sectionLength = ((packet[offset + 1]! & 0x0f) << 8) | packet[offset + 2]!;
  const end = offset + 3 + sectionLength;
  if (end > TS_PACKET_SIZE) return null;
  return packet.subarray(offset, end);
}

/** Scans what has arrived so far; call again with more bytes while the result is need-more. */
export function probeTransportStream(bytes: Uint8Array): ProbeResult {
  const start = syncOffset(bytes);
  if (start < 0) {
    return bytes.length >= 3 * TS_PACKET_SIZE
      ? { kind: 'not-ts', reason: 'no MPEG-TS sync bytes (0x47 every 188 bytes)' }
      : { kind: 'need-more' };
  }
  let pmtPid = -1;
  for (let pos = start; pos + TS_PACKET_SIZE <= bytes.length; pos += TS_PACKET_SIZE) {
    const packet = bytes.subarray(pos, pos + TS_PACKET_SIZE);
    if (packet[0] !== SYNC_BYTE) return { kind: 'not-ts', reason: 'lost MPEG-TS sync' };
    const pid = ((packet[1]! & 0x1f) << 8) | packet[2]!;
    if (pid === PAT_PID && pmtPid < 0) {
      const section = sectionOf(packet);
      if (section?.[0] !== 0x00) continue;
      // Program loop: 4 bytes per program, after the 8-byte header, before the 4-byte CRC.
      for (let p = 8; p + 4 <= section.length - 4; p += 4) {
        const programNumber = (section[p]! << 8) | section[p + 1]!;
        if (programNumber !== 0) {
          pmtPid = ((section[p + 2]! & 0x1f) << 8) | section[p + 3]!;
          break;
        }
      }
    } else if (pid === pmtPid) {
      const section = sectionOf(packet);
      if (section?.[0] !== 0x02) continue;
      const programInfoLength = ((section[10]! & 0x0f) << 8) | section[11]!;
      const streams: ElementaryStream[] = [];
      for (let p = 12 + programInfoLength; p + 5 <= section.length - 4; ) {
        const streamType = section[p]!;
        const esPid = ((section[p + 1]! & 0x1f) << 8) | section[p + 2]!;
        const esInfoLength = ((section[p + 3]! & 0x0f) << 8) | section[p + 4]!;
        streams.push({ pid: esPid, streamType });
        p += 5 + esInfoLength;
      }
      return classify(streams);
    }
  }
  if (bytes.length >= PROBE_LIMIT_BYTES) return { kind: 'not-ts', reason: 'no PAT/PMT in the first 2 MB' };
  return { kind: 'need-more' };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function classify(streams: ElementaryStream[]): ProbeResult {
  const types = streams.map((s) => s.streamType);
  const video: VideoCodec | null = types.includes(STREAM_TYPE.H264)
    ? 'h264'
    : types.includes(STREAM_TYPE.HEVC)
      ? 'hevc'
      : null;
  if (video === null) {
    const found = types.length === 0 ? 'none' : types.map(hex).join(', ');
    return {
      kind: 'unsupported',
      reason: `no H.264 (0x1b) or HEVC (0x24) video stream; stream types: ${found}`,
      streams,
    };
  }
  return { kind: 'found', video, audio: types.includes(STREAM_TYPE.AAC_ADTS) ? 'aac' : null, streams };
}
