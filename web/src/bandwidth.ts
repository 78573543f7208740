/**
 * The bandwidth the viewer reports in heartbeats, from which the session API picks each tile's rendition
 * (and pauses tiles that do not fit).
 *
 * At the live edge, downloads are paced by publication: a 5 KB part arrives as fast as the link allows,
 * but a slow first byte or a busy browser makes one transfer read far below the link's capacity. Measured
 * throughput is a lower bound, and reporting it alone paused tiles that were playing fine (the e2e wall
 * measured 593 kbps on a loaded machine while two 400 kbps tiles played). So the report is never below
 * what the wall demonstrably receives: the bitrates of the tiles that played through the last interval
 * without a stall. A link that really shrinks shows as stalls, those tiles drop out of the floor, and the
 * measure decides again.
 */

/** Loads smaller than this measure latency, not bandwidth. */
export const MIN_SAMPLE_BYTES = 16_000;

/** EWMA of bits per second over fragment loads (first byte to last). 0 until the first sample. */
export class ThroughputEstimate {
  bps = 0;

  sample(bytes: number, ms: number): void {
    if (bytes < MIN_SAMPLE_BYTES || !(ms >= 0)) return;
    const bps = (bytes * 8 * 1000) / Math.max(ms, 1);
    this.bps = this.bps === 0 ? bps : 0.7 * this.bps + 0.3 * bps;
  }
}

/** One tile over the interval since the previous heartbeat. */
export interface TileDelivery {
  /** BANDWIDTH of the rendition it plays (bits/s); 0 when not playing. */
  readonly bitrateBps: number;
  /** Seconds of media played in the interval. */
  readonly playedS: number;
  /** Length of the interval (s). */
  readonly intervalS: number;
  /** Stalls (`waiting` after playback started) in the interval. */
  readonly stalls: number;
}

/**
 * A tile counts as sustained when it played this many seconds of the interval (or 90 % of a shorter one)
 * without a stall: two seconds of media at its bitrate, with well under a second buffered, were delivered.
 */
const SUSTAINED_PLAY_S = 2;

/** Bits per second the wall demonstrably received: tiles that played through the interval without a stall. */
export function sustainedBps(tiles: readonly TileDelivery[]): number {
  let sum = 0;
  for (const t of tiles) {
    const enough = Math.min(SUSTAINED_PLAY_S, 0.9 * t.intervalS);
    if (t.stalls === 0 && t.intervalS > 0 && t.playedS >= enough) sum += t.bitrateBps;
  }
  return sum;
}

/** The figure for the heartbeat: measured throughput, else the fallback, never below what is sustained. */
export function reportedBandwidthBps(
  measuredBps: number,
  tiles: readonly TileDelivery[],
  fallbackBps: number,
): number {
  return Math.max(measuredBps > 0 ? measuredBps : fallbackBps, sustainedBps(tiles));
}
