import type { Rung } from '../../core/ladder.js';
import { type LatencyProfile, PROFILE_TARGETS, partTargetMsFor } from '../../core/latency-profiles.js';
import { PLAYLIST_BODY_BYTES, REQUESTS_PER_PART, RESPONSE_HEADER_BYTES } from './assumptions.js';
import type { Tier } from './prices.js';

/** A bad input to the model; the message names the flag or field. */
export class CostInputError extends Error {
  override readonly name = 'CostInputError';
}

/** One tile of a viewer's wall: the rendition it plays and that rendition's part target under the profile. */
export interface TileView {
  readonly rung: Rung;
  readonly partMs: number;
  /** Requests per second this tile makes (REQUESTS_PER_PART per part). */
  readonly requestsPerSecond: number;
  /** Bytes per second this tile receives: media, playlist bodies and response headers. */
  readonly bytesPerSecond: number;
}

/** Requests per second of one LL-HLS tile: one blocking playlist reload and one part fetch per part. */
export function tileRequestsPerSecond(partMs: number): number {
  return (REQUESTS_PER_PART * 1000) / partMs;
}

/** Media bits (video + audio average bitrates), playlist bodies, and headers on every response. */
export function tileBytesPerSecond(rung: Rung, partMs: number): number {
  const partsPerSecond = 1000 / partMs;
  const media = ((rung.videoKbps + rung.audioKbps) * 1000) / 8;
  return media + partsPerSecond * PLAYLIST_BODY_BYTES + tileRequestsPerSecond(partMs) * RESPONSE_HEADER_BYTES;
}

/**
 * The rendition a viewer's focused (or only) tile plays unless told: a single tile plays the tile rung (the SD
 * viewer the issue prices against IVS's SD rate); the focused tile of a wall plays the largest rung of at most
 * 720p, what the allocator gives focus-strip's main tile (1920x810) on a 1080p screen.
 */
export function defaultFocusRung(ladder: readonly Rung[], tiles: number): Rung {
  const smallest = ladder.at(-1)!;
  if (tiles === 1) return smallest;
  return ladder.find((r) => (r.height ?? 0) <= 720) ?? smallest;
}

/**
 * A viewer's tiles: the focused one at its rung's part target, the other tiles - 1 at the tile rung's (the
 * allocator never raises a non-focused tile above the tile rung).
 */
export function viewerTiles(
  ladder: readonly Rung[],
  profile: LatencyProfile,
  tiles: number,
  focusRungName?: string,
): TileView[] {
  if (ladder.some((r) => r.videoKbps === 0)) {
    throw new CostInputError(
      'media.ladder: passthrough has no configured bitrate to price; use tile or full',
    );
  }
  const focus =
    focusRungName === undefined
      ? defaultFocusRung(ladder, tiles)
      : ladder.find((r) => r.name === focusRungName);
  if (focus === undefined) {
    throw new CostInputError(
      `--focus-rung: ${focusRungName} is not a rung of this ladder (one of ${ladder.map((r) => r.name).join(', ')})`,
    );
  }
  const tileRung = ladder.at(-1)!;
  const view = (rung: Rung): TileView => {
    const partMs = partTargetMsFor(profile, ladder, rung);
    return {
      rung,
      partMs,
      requestsPerSecond: tileRequestsPerSecond(partMs),
      bytesPerSecond: tileBytesPerSecond(rung, partMs),
    };
  };
  return [view(focus), ...Array.from({ length: tiles - 1 }, () => view(tileRung))];
}

/** The segment target of a profile (one for the whole ladder). */
export function segmentMsFor(profile: LatencyProfile): number {
  return PROFILE_TARGETS[profile].segmentMs;
}

export interface TierUse {
  readonly usd: number;
  /** Units of the month billed at this tier. */
  readonly volume: number;
  /** Price per unit. */
  readonly price: number;
}

/** A month's volume priced through volume tiers, tier by tier (only the tiers it reaches). */
export function tieredCost(monthVolume: number, tiers: readonly Tier[]): { usd: number; byTier: TierUse[] } {
  const byTier: TierUse[] = [];
  let rest = monthVolume;
  for (const tier of tiers) {
    if (rest <= 0) break;
    const volume = Math.min(rest, tier.size);
    byTier.push({ usd: volume * tier.usd, volume, price: tier.usd });
    rest -= volume;
  }
  return { usd: byTier.reduce((sum, t) => sum + t.usd, 0), byTier };
}
