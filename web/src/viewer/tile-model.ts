// A tile's pure decisions: its state, overlay text, placement, re-sync and per-heartbeat figures.
import type { TileDelivery } from '../bandwidth.js';
import type { TileRect } from './model.js';

/** No progress for this long: the tile shows offline. */
export const STALL_MS = 5000;
/**
 * Further behind the live edge than the target by this much (s), a tile jumps to the live sync point:
 * catch-up (at most 1.25x) cannot win back seconds lost to stalls on a starved machine, and a wall
 * that falls behind stays behind. hls.js's own re-sync (`liveMaxLatencyDuration`) needs a fixed
 * `liveSyncDuration`, which would replace the playlist's PART-HOLD-BACK as the target. 1.2 s as the
 * latency benchmark's players (bench/latency-harness.ts hlsConfigWithTarget).
 */
export const RESYNC_BEHIND_S = 1.2;

export type TileState = 'live' | 'offline' | 'empty' | 'paused';

export function tileState(tile: {
  readonly streamId: string | null;
  readonly rendition: string | null;
  /** hls.js gave up (a fatal error) and the retry has not loaded yet. */
  readonly fatal: boolean;
  readonly msSinceProgress: number;
}): TileState {
  if (!tile.streamId) return 'empty';
  if (tile.rendition === null) return 'paused';
  if (tile.fatal || tile.msSinceProgress > STALL_MS) return 'offline';
  return 'live';
}

/** The overlay's figures: state, the rendition playing (else the one asked for), latency while live. */
export function overlayFigures(state: TileState, rendition: string, latencyMs: number | null): string {
  return [
    state === 'paused' ? 'paused: bandwidth' : state,
    rendition,
    latencyMs !== null && state === 'live' ? `${(latencyMs / 1000).toFixed(1)} s` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** CSS box of a tile in the wall, with `gapPx` between neighbours. */
export function placement(
  rect: TileRect,
  gapPx: number,
): { left: string; top: string; width: string; height: string } {
  return {
    left: `calc(${rect.x * 100}% + ${gapPx / 2}px)`,
    top: `calc(${rect.y * 100}% + ${gapPx / 2}px)`,
    width: `calc(${rect.w * 100}% - ${gapPx}px)`,
    height: `calc(${rect.h * 100}% - ${gapPx}px)`,
  };
}

/** The rendition of a media playlist path: `/<stream>/<rendition>/playlist.m3u8` gives `<rendition>`. */
export function renditionOfPlaylist(pathname: string): string | null {
  return /\/([^/]+)\/[^/]+\.m3u8/.exec(pathname)?.[1] ?? null;
}

/** The index of the level whose URI is the rendition's; the lowest level (every stream has it) otherwise. */
export function levelFor(levelUris: readonly string[], rendition: string): number {
  return Math.max(
    levelUris.findIndex((uri) => uri.includes(`/${rendition}/`)),
    0,
  );
}

/**
 * Where to jump when playback is more than RESYNC_BEHIND_S behind its target latency: the live sync point,
 * unless playback is already there. Undefined: stay.
 */
export function resyncPosition(player: {
  readonly latencyS: number;
  readonly targetLatencyS: number | null;
  readonly liveSyncPosition: number | null;
  readonly currentTime: number;
}): number | undefined {
  const { latencyS, targetLatencyS, liveSyncPosition, currentTime } = player;
  if (targetLatencyS === null || liveSyncPosition === null) return undefined;
  if (!(latencyS > targetLatencyS + RESYNC_BEHIND_S) || currentTime >= liveSyncPosition) return undefined;
  return liveSyncPosition;
}

/** A tile's counters at one heartbeat. */
export interface DeliveryMark {
  readonly atMs: number;
  /** Media seconds played at the natural pace so far. */
  readonly playedS: number;
  readonly stalls: number;
}

/** What a tile played between two heartbeats, at the bitrate of the level it plays (0 when not playing). */
export function deliveryBetween(last: DeliveryMark, now: DeliveryMark, bitrateBps: number): TileDelivery {
  return {
    bitrateBps,
    playedS: Math.max(0, now.playedS - last.playedS),
    intervalS: (now.atMs - last.atMs) / 1000,
    stalls: Math.max(0, now.stalls - last.stalls),
  };
}
