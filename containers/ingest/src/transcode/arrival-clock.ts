/**
 * When did the media of an ingest run actually happen? The wall clock for the run's media time zero, from
 * the arrival times of its PES packets and their PTS: an encoder sends in real time, so the packet that
 * arrived earliest relative to its PTS shows the true mapping, and later ones are only delayed (by the
 * encoder's start-up, by buffering in its muxer, by the network).
 *
 * Anchoring at the first bytes instead was wrong by however long the encoder held its first packets: a
 * live ffmpeg encode (lavfi + libx264) sends its first ~0.2 s in a burst, which put PROGRAM-DATE-TIME
 * ahead of the wall clock (the status line showed -0.05 s at the live edge).
 */
import { TS_PACKET_SIZE } from './ts-probe.js';

const SYNC_BYTE = 0x47;
/** The PTS clock runs at 90 kHz: 90 ticks a millisecond. */
const PTS_TICKS_PER_MS = 90;
/** PTS is a 33-bit field. */
const PTS_WRAP = 2 ** 33;
/** Samples are taken over this long after the first bytes: the anchor is read when ffmpeg writes its init segment. */
export const SAMPLE_WINDOW_MS = 3000;
/**
 * A sender faster than real time (a file pushed without pacing) would drag the estimate ever earlier: never
 * put media time zero more than this before its first bytes arrived.
 */
export const MAX_LEAD_MS = 1000;

/** PTS (90 kHz ticks) of the PES that starts in this packet, or undefined. */
export function pesPts(packet: Uint8Array): number | undefined {
  if (packet[0] !== SYNC_BYTE || (packet[1]! & 0x40) === 0) return undefined;
  const control = (packet[3]! >> 4) & 0x3;
  if (control === 0 || control === 2) return undefined; // no payload
  const start = control === 3 ? 5 + packet[4]! : 4;
  const pes = packet.subarray(start);
  if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  const streamId = pes[3]!;
  const mediaStream = (streamId >= 0xc0 && streamId <= 0xef) || streamId === 0xbd;
  if (!mediaStream || (pes[7]! & 0x80) === 0) return undefined;
  const b = pes.subarray(9, 14);
  return (
    ((b[0]! >> 1) & 0x7) * 2 ** 30 +
    (((b[1]! << 22) | ((b[2]! >> 1) << 15) | (b[3]! << 7) | (b[4]! >> 1)) >>> 0)
  );
}

export class ArrivalClock {
  private firstAtMs: number | undefined;
  private firstPts: number | undefined;
  /** Earliest PTS seen, in ticks relative to firstPts (unwrapped). */
  private minRelTicks = 0;
  /** min over samples of arrival - (pts - firstPts): the wall clock of firstPts, as promptly as observed. */
  private bestFirstPtsAtMs: number | undefined;

  /** MPEG-TS bytes as they arrived at `atMs` (whole packets; a packet split across chunks is skipped). */
  observe(chunk: Uint8Array, atMs: number): void {
    this.firstAtMs ??= atMs;
    if (atMs - this.firstAtMs > SAMPLE_WINDOW_MS) return;
    for (let offset = syncOffset(chunk); offset + TS_PACKET_SIZE <= chunk.length; offset += TS_PACKET_SIZE) {
      const pts = pesPts(chunk.subarray(offset, offset + TS_PACKET_SIZE));
      if (pts !== undefined) this.sample(pts, atMs);
    }
  }

  /** Wall clock (epoch ms) of the run's media time zero (its earliest PTS); undefined before any PTS. */
  anchorMs(): number | undefined {
    if (this.bestFirstPtsAtMs === undefined || this.firstAtMs === undefined) return undefined;
    const estimate = this.bestFirstPtsAtMs + this.minRelTicks / PTS_TICKS_PER_MS;
    return Math.round(Math.max(estimate, this.firstAtMs - MAX_LEAD_MS));
  }

  private sample(pts: number, atMs: number): void {
    this.firstPts ??= pts;
    let rel = pts - this.firstPts;
    // Unwrap across the 33-bit rollover (every 26.5 h), either way.
    if (rel < -PTS_WRAP / 2) rel += PTS_WRAP;
    else if (rel > PTS_WRAP / 2) rel -= PTS_WRAP;
    this.minRelTicks = Math.min(this.minRelTicks, rel);
    const firstPtsAt = atMs - rel / PTS_TICKS_PER_MS;
    this.bestFirstPtsAtMs = Math.min(this.bestFirstPtsAtMs ?? firstPtsAt, firstPtsAt);
  }
}

function syncOffset(bytes: Uint8Array): number {
  for (let i = 0; i < TS_PACKET_SIZE && i < bytes.length; i++) {
    if (
      bytes[i] === SYNC_BYTE &&
      (i + TS_PACKET_SIZE >= bytes.length || bytes[i + TS_PACKET_SIZE] === SYNC_BYTE)
    ) {
      return i;
    }
  }
  return bytes.length;
}
