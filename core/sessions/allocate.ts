import { type Rung, TILE_RUNG } from '../ladder.js';
import { type LatencyProfile, partTargetMsFor } from '../latency-profiles.js';

/**
 * Bandwidth allocation for a multi-view session: which rendition each tile plays. A pure function of the
 * viewer's measured bandwidth, the tiles (their stream's ladder and their size in device pixels), the
 * focused tile and the previous answer.
 *
 * Rules:
 * - Budget = measured bandwidth x HEADROOM. New choices are made against TARGET = budget x MARGIN, so a
 *   kept answer has room to absorb a dip before it goes over budget.
 * - Every tile first gets its floor (its cheapest usable rung), focus first, then larger tiles first; tiles
 *   that do not fit get nothing (null: the viewer shows them paused) rather than overrun the budget.
 * - The focused tile then gets the highest usable rung that fits; the other tiles are raised together, a
 *   level at a time, but never above the tile rung (360p).
 * - A tile never gets a rung larger than the tile (in device pixels), except its lowest rung, which is
 *   always usable: a 5x5 wall on a laptop still plays.
 * - Against flapping: an answer is kept while it stays within the budget; it is downgraded at once when
 *   it does not; it is upgraded only when even UPGRADE_FACTOR x TARGET would give every tile at least as
 *   much, and not sooner than HOLD_MS after the last change. The player applies a new rendition at its
 *   next segment boundary (hls.js nextLevel), so changes land on segment boundaries.
 * - Part durations (decision D28): on a stream whose rungs differ in part duration (the `wall` profile: long parts
 *   on the tile rung), the focused tile plays a rung with the shortest parts, its cheapest one even when larger
 *   than the tile (a focused tile is watched closely: its latency matters, and its cost is one tile's); only when
 *   none fits the budget does it fall back to the other rungs. Unfocused tiles stay at the tile rung (long parts).
 */

export interface AllocRung {
  readonly name: string;
  /** Output size; undefined for passthrough (the source decides, usable in any tile). */
  readonly width?: number;
  readonly height?: number;
  /** Peak video + audio bitrate, kbps. */
  readonly costKbps: number;
  /** The rung's part target under its stream's latency profile (ms); unknown: no preference by parts. */
  readonly partTargetMs?: number;
}

export interface AllocTile {
  /** null: an empty tile. */
  readonly streamId: string | null;
  /** The stream's rungs, any order. */
  readonly rungs: readonly AllocRung[];
  /** Tile size in device pixels; 0 or unknown counts as smaller than every rung. */
  readonly widthPx: number;
  readonly heightPx: number;
  /** The viewer reports the tile dropping frames: keep it at the tile rung or lower even when focused. */
  readonly struggling?: boolean;
}

export interface Allocation {
  /** Per tile: a rendition name, or null (empty tile, or nothing fits). */
  readonly renditions: readonly (string | null)[];
  /** When the answer last changed (ms since epoch). */
  readonly changedAtMs: number;
}

export interface AllocationInput {
  readonly bandwidthKbps: number;
  readonly tiles: readonly AllocTile[];
  /** Index of the focused tile, or null. */
  readonly focus: number | null;
  readonly previous?: Allocation;
  readonly nowMs: number;
}

export interface AllocationResult extends Allocation {
  readonly costKbps: number;
  readonly budgetKbps: number;
  readonly changed: boolean;
}

/** Share of the measured bandwidth video may use (the rest: playlists, audio jitter, other traffic). */
export const HEADROOM = 0.8;
/** New answers fit in this share of the budget, so a kept answer survives a dip of 1 - MARGIN. */
export const MARGIN = 0.85;
/** Upgrade only if the upgrade would also fit with this share of the target: a rise of 1/0.8 = 25%. */
export const UPGRADE_FACTOR = 0.8;
/**
 * At most one upgrade per 2 s (4 segments of the default 500 ms): the player switches at a segment boundary, so a
 * hold of several segments lets one switch land and show in the measured bandwidth before the next.
 */
export const HOLD_MS = 4 * 500;

/** A rung's cost in the allocator: peak video bitrate plus audio. Passthrough has no configured figure. */
export function rungCost(rung: Rung, sourceKbps?: number): number {
  if (rung.maxVideoKbps === 0) return sourceKbps ?? PASSTHROUGH_ESTIMATE_KBPS;
  return rung.maxVideoKbps + rung.audioKbps;
}
/**
 * Assumed passthrough bitrate until the ingest status reports the source's: a typical 1080p30 H.264 contribution
 * feed, so a passthrough tile is not given a budget far below what it will need.
 */
export const PASSTHROUGH_ESTIMATE_KBPS = 8000;

export function toAllocRungs(
  ladder: readonly Rung[],
  sourceKbps?: number,
  profile?: LatencyProfile,
): AllocRung[] {
  return ladder.map((r) => ({
    name: r.name,
    width: r.width,
    height: r.height,
    costKbps: rungCost(r, sourceKbps),
    ...(profile === undefined ? {} : { partTargetMs: partTargetMsFor(profile, ladder, r) }),
  }));
}

/**
 * The tile with only its shortest-part rungs, when its rungs differ in part duration (a `wall` stream); the tile
 * as it is otherwise (one part duration, or unknown).
 */
export function shortPartRungs(tile: AllocTile): AllocTile {
  const parts = tile.rungs.map((r) => r.partTargetMs);
  if (parts.some((p) => p === undefined)) return tile;
  const shortest = Math.min(...(parts as number[]));
  const short = tile.rungs.filter((r) => r.partTargetMs === shortest);
  return short.length === tile.rungs.length ? tile : { ...tile, rungs: short };
}

/** The rungs tile `i` may play: unfocused (or struggling) tiles capped at the tile rung, see the rules above. */
function tileOptions(
  tile: AllocTile,
  i: number,
  focusIndex: number | null,
  shortParts: boolean,
): AllocRung[] {
  if (tile.streamId === null) return [];
  if (i !== focusIndex || tile.struggling) return usableRungs(tile, TILE_RUNG.height);
  return usableRungs(shortParts ? shortPartRungs(tile) : tile);
}

/** The rungs a tile may play, cheapest first: those that fit the tile, plus the cheapest one in any case. */
export function usableRungs(tile: AllocTile, capHeight?: number): AllocRung[] {
  const byCost = [...tile.rungs].sort((a, b) => a.costKbps - b.costKbps || (a.height ?? 0) - (b.height ?? 0));
  const floor = byCost[0];
  if (!floor) return [];
  const fits = (r: AllocRung) =>
    r.width === undefined || (r.width <= tile.widthPx && (r.height ?? 0) <= tile.heightPx);
  // A rung without a size (passthrough) is not "the tile rung or lower" for a capped tile.
  const underCap = (r: AllocRung) =>
    capHeight === undefined || (r.height !== undefined && r.height <= capHeight);
  return byCost.filter((r, i) => i === 0 || (fits(r) && underCap(r)));
}

type Choice = readonly (AllocRung | null)[];

/** The best answer that fits `target`, ignoring the previous one. */
export function freshAllocation(tiles: readonly AllocTile[], focus: number | null, target: number): Choice {
  const focusIndex = focus !== null && tiles[focus]?.streamId ? focus : null;
  const short = fitAllocation(tiles, focusIndex, target, true);
  // No short-part rung fits for the focused tile: the cheaper long-part ones rather than nothing.
  if (focusIndex === null || short[focusIndex] !== null) return short;
  return fitAllocation(tiles, focusIndex, target, false);
}

function fitAllocation(
  tiles: readonly AllocTile[],
  focusIndex: number | null,
  target: number,
  shortParts: boolean,
): Choice {
  const options = tiles.map((tile, i) => tileOptions(tile, i, focusIndex, shortParts));
  const order = tiles
    .map((_, i) => i)
    .filter((i) => (options[i]?.length ?? 0) > 0)
    .sort((a, b) => {
      if (a === focusIndex) return -1;
      if (b === focusIndex) return 1;
      const area = (i: number) => (tiles[i]?.widthPx ?? 0) * (tiles[i]?.heightPx ?? 0);
      return area(b) - area(a) || a - b;
    });

  const level = tiles.map(() => -1);
  let spent = 0;
  // 1. Floors, as a prefix of the order: once one does not fit, the rest get nothing (keeps this monotone).
  for (const i of order) {
    const floor = (options[i] as AllocRung[])[0] as AllocRung;
    if (spent + floor.costKbps > target) break;
    spent += floor.costKbps;
    level[i] = 0;
  }
  // 2. The focused tile: the highest usable rung that fits.
  if (focusIndex !== null && level[focusIndex] === 0) {
    const opts = options[focusIndex] as AllocRung[];
    const floorCost = (opts[0] as AllocRung).costKbps;
    for (let k = opts.length - 1; k > 0; k--) {
      if (spent - floorCost + (opts[k] as AllocRung).costKbps <= target) {
        spent += (opts[k] as AllocRung).costKbps - floorCost;
        level[focusIndex] = k;
        break;
      }
    }
  }
  // 3. The others, raised together one level at a time (within their cap) while the whole step fits.
  const others = order.filter((i) => i !== focusIndex && level[i] === 0);
  for (let k = 1; ; k++) {
    const raising = others.filter((i) => (options[i]?.length ?? 0) > k);
    if (raising.length === 0) break;
    const extra = raising.reduce(
      (sum, i) =>
        sum +
        ((options[i] as AllocRung[])[k] as AllocRung).costKbps -
        ((options[i] as AllocRung[])[k - 1] as AllocRung).costKbps,
      0,
    );
    if (spent + extra > target) break;
    spent += extra;
    for (const i of raising) level[i] = k;
  }
  return level.map((k, i) => (k < 0 ? null : ((options[i] as AllocRung[])[k] as AllocRung)));
}

export function allocate(input: AllocationInput): AllocationResult {
  const budget = Math.max(0, input.bandwidthKbps) * HEADROOM;
  const target = budget * MARGIN;
  const result = (choice: Choice, changed: boolean, changedAtMs: number): AllocationResult => ({
    renditions: choice.map((r) => r?.name ?? null),
    costKbps: cost(choice),
    budgetKbps: budget,
    changed,
    changedAtMs,
  });
  const fresh = () => freshAllocation(input.tiles, input.focus, target);
  const previous = input.previous && resolve(input.tiles, input.focus, input.previous.renditions);
  if (!input.previous || !previous) {
    const choice = fresh();
    const same = input.previous !== undefined && sameNames(choice, input.previous.renditions);
    return result(choice, !same, same && input.previous ? input.previous.changedAtMs : input.nowMs);
  }
  const kept = input.previous;
  // Over budget: step down now.
  if (cost(previous) > budget) {
    return result(fresh(), true, input.nowMs);
  }
  if (input.nowMs - kept.changedAtMs >= HOLD_MS) {
    const upgrade = freshAllocation(input.tiles, input.focus, target * UPGRADE_FACTOR);
    if (dominates(upgrade, previous, input.tiles)) return result(upgrade, true, input.nowMs);
  }
  return result(previous, false, kept.changedAtMs);
}

function cost(choice: Choice): number {
  return choice.reduce((sum, r) => sum + (r?.costKbps ?? 0), 0);
}

function sameNames(choice: Choice, names: readonly (string | null)[]): boolean {
  return choice.length === names.length && choice.every((r, i) => (r?.name ?? null) === names[i]);
}

/**
 * The previous answer mapped onto the current tiles, or undefined when it no longer applies: a tile's
 * stream has no such rung, the rung no longer fits the tile, or a tile has no answer while it has a stream.
 */
function resolve(tiles: readonly AllocTile[], focus: number | null, names: readonly (string | null)[]) {
  if (names.length !== tiles.length) return undefined;
  const focusIndex = focus !== null && tiles[focus]?.streamId ? focus : null;
  const choice: (AllocRung | null)[] = [];
  for (const [i, tile] of tiles.entries()) {
    const name = names[i] ?? null;
    if (tile.streamId === null) {
      if (name !== null) return undefined;
      choice.push(null);
      continue;
    }
    if (name === null) {
      choice.push(null);
      continue;
    }
    // Kept whether it was chosen among the short-part rungs or as the fallback.
    const usable = [...tileOptions(tile, i, focusIndex, true), ...tileOptions(tile, i, focusIndex, false)];
    const rung = usable.find((r) => r.name === name);
    if (!rung) return undefined;
    choice.push(rung);
  }
  return choice;
}

/** Every tile at least as good (a rung ranks by cost, null lowest) and one strictly better. */
function dominates(a: Choice, b: Choice, tiles: readonly AllocTile[]): boolean {
  let better = false;
  for (let i = 0; i < tiles.length; i++) {
    const x = a[i]?.costKbps ?? -1;
    const y = b[i]?.costKbps ?? -1;
    if (x < y) return false;
    if (x > y) better = true;
  }
  return better;
}
