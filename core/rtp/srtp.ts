import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { parseRtpHeader } from './packet.js';

/**
 * SRTP and SRTCP with AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2.1, §4.3), the suite ffmpeg's srtp:// sends
 * (`-srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params <base64 of key || salt>`). Pure, with node:crypto.
 * Key derivation rate 0 (the default, and all ffmpeg supports): the session keys never change within a stream.
 */

export const SRTP_MASTER_KEY_BYTES = 16;
export const SRTP_MASTER_SALT_BYTES = 14;
/** HMAC-SHA1 truncated to 80 bits (the `_80` of the suite name). */
export const SRTP_AUTH_TAG_BYTES = 10;
/** n_a for HMAC-SHA1 (RFC 3711 §4.2.1). */
const AUTH_KEY_BYTES = 20;
/** The replay window, packets (RFC 3711 §3.3.2: at least 64). */
export const REPLAY_WINDOW = 64;
/** Key derivation labels (RFC 3711 §4.3.1, §4.3.2). */
const LABEL = {
  rtpEncryption: 0,
  rtpAuth: 1,
  rtpSalt: 2,
  rtcpEncryption: 3,
  rtcpAuth: 4,
  rtcpSalt: 5,
} as const;
/** SRTCP trailer: E flag (encrypted) and a 31-bit index. */
const SRTCP_E_FLAG = 0x8000_0000;
const SRTCP_INDEX_BYTES = 4;

export interface SessionKeys {
  readonly encryption: Buffer;
  readonly auth: Buffer;
  readonly salt: Buffer;
}

export interface MasterKey {
  readonly key: Buffer;
  readonly salt: Buffer;
}

/** The 40-character base64 of `key || salt` (ffmpeg's -srtp_out_params) as its two parts; throws on any other length. */
export function parseSrtpParams(base64: string): MasterKey {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== SRTP_MASTER_KEY_BYTES + SRTP_MASTER_SALT_BYTES) {
    throw new Error(`SRTP key: ${bytes.length} bytes, expected 30 (16-byte key, 14-byte salt)`);
  }
  return { key: bytes.subarray(0, SRTP_MASTER_KEY_BYTES), salt: bytes.subarray(SRTP_MASTER_KEY_BYTES) };
}

/** AES in counter mode over `length` zero bytes from the 128-bit `iv` (RFC 3711 §4.1.1's keystream). */
function keystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/**
 * RFC 3711 §4.3.1 with kdr 0: x = label at byte 7 of the salt (key_id = label || r, r = 0, right-aligned in 112 bits),
 * the PRF is AES-CM under the master key from x * 2^16.
 */
function derive(master: MasterKey, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  master.salt.copy(iv, 0);
  iv[7]! ^= label;
  return keystream(master.key, iv, length);
}

/** The session keys of SRTP (`rtcp` false) or SRTCP (`rtcp` true). */
export function deriveSessionKeys(master: MasterKey, rtcp = false): SessionKeys {
  const o = rtcp ? 3 : 0;
  return {
    encryption: derive(master, LABEL.rtpEncryption + o, SRTP_MASTER_KEY_BYTES),
    auth: derive(master, LABEL.rtpAuth + o, AUTH_KEY_BYTES),
    salt: derive(master, LABEL.rtpSalt + o, SRTP_MASTER_SALT_BYTES),
  };
}

/** RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i the 48-bit packet index. */
export function aesCmIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // 48 bits of index at bytes 8..13: the high 16 and the low 32 apart (JS bit operators are 32-bit).
  const high = Math.floor(index / 2 ** 32);
  const low = index % 2 ** 32;
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ high, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ low) >>> 0, 10);
  return iv;
}

/** XORs `data` with the keystream of (ssrc, index): encryption and decryption are the same operation. */
export function aesCmXor(keys: SessionKeys, ssrc: number, index: number, data: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-ctr', keys.encryption, aesCmIv(keys.salt, ssrc, index));
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function tag(authKey: Buffer, parts: readonly Uint8Array[]): Buffer {
  const hmac = createHmac('sha1', authKey);
  for (const p of parts) hmac.update(p);
  return hmac.digest().subarray(0, SRTP_AUTH_TAG_BYTES);
}

function rocBytes(roc: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(roc >>> 0);
  return b;
}

/** Whether the SRTP packet's tag is right for these keys and rollover counter (no state touched). */
export function srtpAuthenticates(keys: SessionKeys, packet: Uint8Array, roc: number): boolean {
  if (packet.length < 12 + SRTP_AUTH_TAG_BYTES) return false;
  const end = packet.length - SRTP_AUTH_TAG_BYTES;
  const expected = tag(keys.auth, [packet.subarray(0, end), rocBytes(roc)]);
  return timingSafeEqual(expected, packet.subarray(end));
}

/** RFC 3711 Appendix A: the ROC that puts `seq` closest to the highest sequence number seen. */
export function estimateRoc(roc: number, highestSeq: number, seq: number): number {
  if (highestSeq < 32768) return seq - highestSeq > 32768 ? roc - 1 : roc;
  return highestSeq - 32768 > seq ? roc + 1 : roc;
}

export type UnprotectResult =
  | { ok: true; packet: Buffer; index: number }
  | { ok: false; reason: 'malformed' | 'auth' | 'replay' };

/**
 * One SRTP receive context (one SSRC): ROC estimation, authentication, the replay window, decryption. State moves
 * only for packets that authenticate, so a forged packet cannot push the window or the ROC.
 */
export class SrtpReceiveContext {
  private roc: number;
  private highestSeq = -1;
  /** Bit k set: the packet `highestIndex - k` was received. */
  private window = 0n;

  /** `roc`: the rollover counter of the first packet (0 for a new sender; found by trial for one joined late). */
  constructor(
    private readonly keys: SessionKeys,
    roc = 0,
  ) {
    this.roc = roc;
  }

  /** The rollover counter of the highest packet received. */
  get rolloverCounter(): number {
    return this.roc;
  }

  /** The highest packet index received (-1 before any). */
  get highestIndex(): number {
    return this.highestSeq < 0 ? -1 : this.roc * 65536 + this.highestSeq;
  }

  unprotect(packet: Uint8Array): UnprotectResult {
    const parsed = parseRtpHeader(packet);
    if (!parsed.ok || packet.length < parsed.header.headerBytes + SRTP_AUTH_TAG_BYTES) {
      return { ok: false, reason: 'malformed' };
    }
    const { sequence: seq, ssrc, headerBytes } = parsed.header;
    const roc = this.highestSeq < 0 ? this.roc : estimateRoc(this.roc, this.highestSeq, seq);
    if (roc < 0) return { ok: false, reason: 'replay' };
    const index = roc * 65536 + seq;
    const highest = this.highestIndex;
    if (highest >= 0 && index <= highest) {
      const age = highest - index;
      if (age >= REPLAY_WINDOW || ((this.window >> BigInt(age)) & 1n) === 1n)
        return { ok: false, reason: 'replay' };
    }
    if (!srtpAuthenticates(this.keys, packet, roc)) return { ok: false, reason: 'auth' };
    const end = packet.length - SRTP_AUTH_TAG_BYTES;
    const clear = Buffer.alloc(end);
    clear.set(packet.subarray(0, headerBytes));
    clear.set(aesCmXor(this.keys, ssrc, index, packet.subarray(headerBytes, end)), headerBytes);
    this.accept(index);
    return { ok: true, packet: clear, index };
  }

  private accept(index: number): void {
    const highest = this.highestIndex;
    if (highest < 0 || index > highest) {
      const shift = highest < 0 ? REPLAY_WINDOW : index - highest;
      this.window = shift >= REPLAY_WINDOW ? 1n : ((this.window << BigInt(shift)) | 1n) & ((1n << 64n) - 1n);
      this.roc = Math.floor(index / 65536);
      this.highestSeq = index % 65536;
    } else {
      this.window |= 1n << BigInt(highest - index);
    }
  }
}

/** The sending side (tests, and any SRTP sender in the platform): sequence numbers taken as they come, ROC counted. */
export class SrtpSendContext {
  private lastSeq = -1;

  constructor(
    private readonly keys: SessionKeys,
    private roc = 0,
  ) {}

  protect(packet: Uint8Array): Buffer {
    const parsed = parseRtpHeader(packet);
    if (!parsed.ok) throw new Error(`SRTP protect: ${parsed.reason}`);
    const { sequence: seq, ssrc, headerBytes } = parsed.header;
    if (this.lastSeq >= 0 && seq < this.lastSeq && this.lastSeq - seq > 32768) this.roc += 1;
    this.lastSeq = seq;
    const index = this.roc * 65536 + seq;
    const body = Buffer.concat([
      packet.subarray(0, headerBytes),
      aesCmXor(this.keys, ssrc, index, packet.subarray(headerBytes)),
    ]);
    return Buffer.concat([body, tag(this.keys.auth, [body, rocBytes(this.roc)])]);
  }
}

/** RFC 3711 §3.4: an RTCP compound packet as SRTCP (encrypted from byte 8, E flag, 31-bit index, tag). */
export function protectRtcp(keys: SessionKeys, rtcp: Uint8Array, index: number): Buffer {
  const ssrc = new DataView(rtcp.buffer, rtcp.byteOffset, rtcp.byteLength).getUint32(4);
  const trailer = Buffer.alloc(SRTCP_INDEX_BYTES);
  trailer.writeUInt32BE((SRTCP_E_FLAG | (index & 0x7fff_ffff)) >>> 0);
  const body = Buffer.concat([
    rtcp.subarray(0, 8),
    aesCmXor(keys, ssrc, index & 0x7fff_ffff, rtcp.subarray(8)),
    trailer,
  ]);
  return Buffer.concat([body, tag(keys.auth, [body])]);
}

/** The inverse of protectRtcp (tests; an RTCP sender report could be read with it); null when it does not authenticate. */
export function unprotectRtcp(keys: SessionKeys, srtcp: Uint8Array): { rtcp: Buffer; index: number } | null {
  if (srtcp.length < 8 + SRTCP_INDEX_BYTES + SRTP_AUTH_TAG_BYTES) return null;
  const end = srtcp.length - SRTP_AUTH_TAG_BYTES;
  if (!timingSafeEqual(tag(keys.auth, [srtcp.subarray(0, end)]), srtcp.subarray(end))) return null;
  const view = new DataView(srtcp.buffer, srtcp.byteOffset, srtcp.byteLength);
  const trailer = view.getUint32(end - SRTCP_INDEX_BYTES);
  const index = trailer & 0x7fff_ffff;
  const ssrc = view.getUint32(4);
  const payload = srtcp.subarray(8, end - SRTCP_INDEX_BYTES);
  const clear = (trailer & SRTCP_E_FLAG) !== 0 ? aesCmXor(keys, ssrc, index, payload) : Buffer.from(payload);
  return { rtcp: Buffer.concat([srtcp.subarray(0, 8), clear]), index };
}
