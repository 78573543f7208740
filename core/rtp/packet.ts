/**
 * RTP fixed header (RFC 3550 §5.1), with its CSRC list, header extension (§5.3.1) and padding (§5.1 P bit).
 * Pure: offsets into the datagram, nothing copied.
 */

/** RTP version 2: the only one in use since RFC 1889. */
export const RTP_VERSION = 2;
/** 12 bytes: V/P/X/CC, M/PT, sequence number, timestamp, SSRC. */
export const RTP_FIXED_HEADER_BYTES = 12;
/** RFC 3551 static payload type of MPEG-TS over RTP (RFC 2250), what `ffmpeg -f rtp_mpegts` sends. */
export const PAYLOAD_TYPE_MP2T = 33;
/** RFC 3551: MP2T timestamps run at 90 kHz (as do H.264 and HEVC video, RFC 6184/7798). */
export const MP2T_CLOCK_HZ = 90_000;

export interface RtpHeader {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Bytes of fixed header + CSRC list + extension: where the payload (the SRTP-encrypted part) starts. */
  readonly headerBytes: number;
  /** Bytes of RTP padding at the end of the payload (after decryption for SRTP: padding is encrypted). */
  readonly padded: boolean;
}

export type RtpParse = { ok: true; header: RtpHeader } | { ok: false; reason: string };

/**
 * Parses the header of an RTP packet. The padding count sits in the (possibly encrypted) last payload byte, so it is
 * read by `payloadOf` once the payload is clear.
 */
export function parseRtpHeader(packet: Uint8Array): RtpParse {
  if (packet.length < RTP_FIXED_HEADER_BYTES) return { ok: false, reason: 'shorter than an RTP header' };
  const b0 = packet[0]!;
  if (b0 >> 6 !== RTP_VERSION) return { ok: false, reason: 'not RTP version 2' };
  const padded = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = packet[1]!;
  const payloadType = b1 & 0x7f;
  // RTCP packet types 200-204 land on payload types 72-76 with the marker set: a multiplexed RTCP packet.
  if (payloadType >= 72 && payloadType <= 76) return { ok: false, reason: 'RTCP, not RTP' };
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let headerBytes = RTP_FIXED_HEADER_BYTES + 4 * csrcCount;
  if (extension) {
    if (packet.length < headerBytes + 4) return { ok: false, reason: 'truncated header extension' };
    headerBytes += 4 + 4 * view.getUint16(headerBytes + 2);
  }
  if (packet.length < headerBytes) return { ok: false, reason: 'truncated header' };
  return {
    ok: true,
    header: {
      marker: (b1 & 0x80) !== 0,
      payloadType,
      sequence: view.getUint16(2),
      timestamp: view.getUint32(4),
      ssrc: view.getUint32(8),
      headerBytes,
      padded,
    },
  };
}

/** The payload of a clear RTP packet, without its padding; null when the padding count is impossible. */
export function payloadOf(packet: Uint8Array, header: RtpHeader): Uint8Array | null {
  let end = packet.length;
  if (header.padded) {
    const count = packet[end - 1]!;
    if (count === 0 || header.headerBytes + count > end) return null;
    end -= count;
  }
  return packet.subarray(header.headerBytes, end);
}

/** Builds an RTP packet (tests, and the plain RTP handed to a local demuxer). */
export function buildRtpPacket(h: {
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: readonly number[];
  /** Extension profile and its 32-bit words. */
  extension?: { profile: number; words: readonly number[] };
  padding?: number;
  payload: Uint8Array;
}): Buffer {
  const csrcs = h.csrcs ?? [];
  const ext = h.extension;
  const padding = h.padding ?? 0;
  const headerBytes = RTP_FIXED_HEADER_BYTES + 4 * csrcs.length + (ext ? 4 + 4 * ext.words.length : 0);
  const out = Buffer.alloc(headerBytes + h.payload.length + padding);
  out[0] = (RTP_VERSION << 6) | (padding > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequence & 0xffff, 2);
  out.writeUInt32BE(h.timestamp >>> 0, 4);
  out.writeUInt32BE(h.ssrc >>> 0, 8);
  let at = RTP_FIXED_HEADER_BYTES;
  for (const c of csrcs) {
    out.writeUInt32BE(c >>> 0, at);
    at += 4;
  }
  if (ext) {
    out.writeUInt16BE(ext.profile, at);
    out.writeUInt16BE(ext.words.length, at + 2);
    at += 4;
    for (const w of ext.words) {
      out.writeUInt32BE(w >>> 0, at);
      at += 4;
    }
  }
  out.set(h.payload, at);
  if (padding > 0) out[out.length - 1] = padding;
  return out;
}
