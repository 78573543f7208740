import type { RtpReceptionSnapshot } from './stats.js';

/**
 * RTCP receiver report (RFC 3550 §6.4.2) with an SDES CNAME (§6.5.1: every compound packet carries one), the compound
 * packet a receiver sends back to an encoder that expects reports. Pure.
 */

const RTCP_VERSION_BITS = 2 << 6;
const PT_RR = 201;
const PT_SDES = 202;
const SDES_CNAME = 1;

export interface ReceiverReportInput {
  /** The receiver's own SSRC. */
  readonly reporterSsrc: number;
  /** The sender's SSRC the block reports on. */
  readonly sourceSsrc: number;
  readonly stats: RtpReceptionSnapshot;
  readonly cname: string;
  /** Middle 32 bits of the last SR's NTP timestamp and the delay since, 1/65536 s; 0 with no SR received. */
  readonly lastSr?: number;
  readonly delaySinceLastSr?: number;
}

export function buildReceiverReport(r: ReceiverReportInput): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = RTCP_VERSION_BITS | 1;
  rr[1] = PT_RR;
  rr.writeUInt16BE(32 / 4 - 1, 2);
  rr.writeUInt32BE(r.reporterSsrc >>> 0, 4);
  rr.writeUInt32BE(r.sourceSsrc >>> 0, 8);
  rr[12] = Math.min(255, Math.floor(r.stats.fractionLost * 256));
  // 24-bit signed cumulative lost, clamped to its range (§6.4.1).
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.stats.cumulativeLost));
  rr.writeUIntBE(lost & 0xffffff, 13, 3);
  rr.writeUInt32BE(r.stats.extendedHighestSeq >>> 0, 16);
  rr.writeUInt32BE(Math.min(0xffffffff, Math.round(r.stats.jitter)) >>> 0, 20);
  rr.writeUInt32BE((r.lastSr ?? 0) >>> 0, 24);
  rr.writeUInt32BE((r.delaySinceLastSr ?? 0) >>> 0, 28);
  return Buffer.concat([rr, sdesCname(r.reporterSsrc, r.cname)]);
}

function sdesCname(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  // SSRC, item type, length, text, then a null item that ends the chunk, padded to 32 bits.
  const chunkBytes = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const out = Buffer.alloc(4 + chunkBytes);
  out[0] = RTCP_VERSION_BITS | 1;
  out[1] = PT_SDES;
  out.writeUInt16BE(out.length / 4 - 1, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  out[8] = SDES_CNAME;
  out[9] = text.length;
  text.copy(out, 10);
  return out;
}

/** The report block of an RR read back (tests and diagnostics). */
export function parseReceiverReport(rtcp: Uint8Array): {
  reporterSsrc: number;
  sourceSsrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
} | null {
  if (rtcp.length < 32 || rtcp[1] !== PT_RR || (rtcp[0]! & 0x1f) < 1) return null;
  const v = new DataView(rtcp.buffer, rtcp.byteOffset, rtcp.byteLength);
  const raw = (v.getUint8(13) << 16) | (v.getUint8(14) << 8) | v.getUint8(15);
  return {
    reporterSsrc: v.getUint32(4),
    sourceSsrc: v.getUint32(8),
    fractionLost: v.getUint8(12) / 256,
    cumulativeLost: raw & 0x800000 ? raw - 0x1000000 : raw,
    extendedHighestSeq: v.getUint32(16),
    jitter: v.getUint32(20),
  };
}
