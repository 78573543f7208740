// What a heartbeat tells the session API: the bandwidth the wall has, each tile's size and frame counts.
import { reportedBandwidthBps } from '../bandwidth.js';
import type { Tile } from './tile.js';
import { DEFAULT_ESTIMATE_BPS, throughput } from './tile-player.js';

export interface HeartbeatBody {
  readonly bandwidthKbps: number;
  readonly tiles: readonly {
    readonly widthPx: number;
    readonly heightPx: number;
    readonly droppedFrames: number;
    readonly decodedFrames: number;
  }[];
}

/** Reads (and resets) every tile's per-heartbeat figures. */
export function heartbeatBody(tiles: readonly Tile[]): HeartbeatBody {
  const dpr = devicePixelRatio || 1;
  // Our own measure of part downloads, else the best of the players' estimates; never below what
  // the wall demonstrably receives (web/src/bandwidth.ts).
  const measured = throughput.bps || Math.max(0, ...tiles.map((t) => t.bandwidthBps()));
  const delivered = tiles.map((t) => t.delivery());
  return {
    bandwidthKbps: Math.round(reportedBandwidthBps(measured, delivered, DEFAULT_ESTIMATE_BPS) / 1000),
    tiles: tiles.map((t) => {
      const box = t.el.getBoundingClientRect();
      return {
        widthPx: Math.round(box.width * dpr),
        heightPx: Math.round(box.height * dpr),
        ...t.frames(),
      };
    }),
  };
}
