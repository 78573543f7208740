/**
 * Reads an input's MPEG-TS as it arrives for the A/V statistics (decision D42): the PMT's video and audio PIDs,
 * each PES header's PTS/DTS, keyframes (random access indicator, or a parameter set / IRAP NAL unit in the PES's
 * first packet), and continuity counter jumps. Headers only: no payload is copied, a chunk costs one pass.
 */
import { AvStats } from '../../../../core/media/av-stats.js';
import { STREAM_TYPE, TS_PACKET_SIZE } from './ts-probe.js';

const SYNC_BYTE = 0x47;
const PAT_PID = 0x0000;
const NULL_PID = 0x1fff;
const AUDIO_TYPES: readonly number[] = [
  STREAM_TYPE.AAC_ADTS,
  STREAM_TYPE.AAC_LATM,
  STREAM_TYPE.MPEG1_AUDIO,
  STREAM_TYPE.MPEG2_AUDIO,
  STREAM_TYPE.AC3,
];

/** 33-bit timestamp at `b[0..4]` (PES header layout). */
function timestamp(b: Uint8Array, at: number): number {
  return (
    ((b[at]! >> 1) & 0x7) * 2 ** 30 +
    (((b[at + 1]! << 22) | ((b[at + 2]! >> 1) << 15) | (b[at + 3]! << 7) | (b[at + 4]! >> 1)) >>> 0)
  );
}

/**
 * Whether the NAL units that start in this slice of a PES payload begin an access unit a decoder can start at:
 * H.264 IDR (5) or SPS (7); HEVC IRAP (16-21), VPS (32) or SPS (33). Encoders repeat parameter sets before each
 * keyframe, and the keyframe's own NAL may lie beyond the first packet (after a long SEI).
 */
export function startsKeyframe(payload: Uint8Array, codec: 'h264' | 'hevc'): boolean {
  for (let i = 0; i + 3 < payload.length; i++) {
    if (payload[i] !== 0 || payload[i + 1] !== 0 || payload[i + 2] !== 1) continue;
    const header = payload[i + 3]!;
    if (codec === 'h264') {
      const type = header & 0x1f;
      if (type === 5 || type === 7) return true;
    } else {
      const type = (header >> 1) & 0x3f;
      if ((type >= 16 && type <= 21) || type === 32 || type === 33) return true;
    }
    i += 2;
  }
  return false;
}

export class TsAnalyzer {
  readonly stats = new AvStats();
  /** The tail of the last chunk that did not make a whole packet. */
  private carry: Uint8Array = new Uint8Array(0);
  private pmtPid = -1;
  private videoPid = -1;
  private videoCodec: 'h264' | 'hevc' = 'h264';
  private audioPid = -1;
  /** Last continuity counter per PID (at most 8192 PIDs: bounded by the format). */
  private readonly counters = new Map<number, number>();

  /** MPEG-TS bytes as they arrived at `atMs`. */
  push(chunk: Uint8Array, atMs: number): void {
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    let pos = 0;
    while (pos + TS_PACKET_SIZE <= bytes.length) {
      if (bytes[pos] !== SYNC_BYTE) {
        pos += 1; // resynchronise byte by byte: a corrupt packet costs one packet's worth of scanning
        continue;
      }
      this.packet(bytes.subarray(pos, pos + TS_PACKET_SIZE), atMs);
      pos += TS_PACKET_SIZE;
    }
    this.carry = bytes.slice(pos);
  }

  private packet(p: Uint8Array, atMs: number): void {
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    if (pid === NULL_PID) return;
    const start = (p[1]! & 0x40) !== 0;
    const control = (p[3]! >> 4) & 0x3;
    const hasPayload = control === 1 || control === 3;
    const adaptationLength = control >= 2 ? p[4]! : 0;
    const flags = control >= 2 && adaptationLength > 0 ? p[5]! : 0;
    this.continuity(pid, p[3]! & 0x0f, hasPayload, (flags & 0x80) !== 0);
    if (!hasPayload || !start) return;
    const payload = p.subarray(control === 3 ? 5 + adaptationLength : 4);
    if (pid === PAT_PID) this.pat(payload);
    else if (pid === this.pmtPid) this.pmt(payload);
    else if (pid === this.videoPid || pid === this.audioPid)
      this.pes(pid, payload, (flags & 0x40) !== 0, atMs);
  }

  /** Counts a jump; a repeated counter (one duplicate allowed) and a signalled discontinuity are not errors. */
  private continuity(pid: number, cc: number, hasPayload: boolean, discontinuity: boolean): void {
    const last = this.counters.get(pid);
    if (hasPayload) this.counters.set(pid, cc);
    if (last === undefined || discontinuity || !hasPayload) return;
    if (cc !== ((last + 1) & 0x0f) && cc !== last) this.stats.continuityError();
  }

  private section(payload: Uint8Array): Uint8Array | null {
    const offset = 1 + payload[0]!;
    if (offset + 3 > payload.length) return null;
    const length = ((payload[offset + 1]! & 0x0f) << 8) | payload[offset + 2]!;
    return offset + 3 + length <= payload.length ? payload.subarray(offset, offset + 3 + length) : null;
  }

  private pat(payload: Uint8Array): void {
    const s = this.section(payload);
    if (s?.[0] !== 0x00) return;
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      if (((s[i]! << 8) | s[i + 1]!) !== 0) {
        this.pmtPid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
        return;
      }
    }
  }

  private pmt(payload: Uint8Array): void {
    const s = this.section(payload);
    if (s?.[0] !== 0x02) return;
    const programInfoLength = ((s[10]! & 0x0f) << 8) | s[11]!;
    let video = -1;
    let audio = -1;
    for (let i = 12 + programInfoLength; i + 5 <= s.length - 4; ) {
      const type = s[i]!;
      const pid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
      if (video < 0 && (type === STREAM_TYPE.H264 || type === STREAM_TYPE.HEVC)) {
        video = pid;
        this.videoCodec = type === STREAM_TYPE.HEVC ? 'hevc' : 'h264';
      } else if (audio < 0 && AUDIO_TYPES.includes(type)) {
        audio = pid;
      }
      i += 5 + (((s[i + 3]! & 0x0f) << 8) | s[i + 4]!);
    }
    this.videoPid = video;
    this.audioPid = audio;
  }

  private pes(pid: number, pes: Uint8Array, randomAccess: boolean, atMs: number): void {
    if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return;
    const ptsDts = pes[7]! >> 6;
    if (ptsDts < 2) return;
    const pts = timestamp(pes, 9);
    if (pid === this.audioPid) {
      this.stats.audio(pts, atMs);
      return;
    }
    const dts = ptsDts === 3 && pes.length >= 19 ? timestamp(pes, 14) : undefined;
    const keyframe = randomAccess || startsKeyframe(pes.subarray(9 + pes[8]!), this.videoCodec);
    this.stats.video(pts, dts, keyframe, atMs);
  }
}
