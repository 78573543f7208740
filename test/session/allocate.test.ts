import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LADDERS, TILE_RUNG } from '../../core/ladder.js';
import {
  type AllocRung,
  type AllocTile,
  allocate,
  freshAllocation,
  HEADROOM,
  HOLD_MS,
  MARGIN,
  shortPartRungs,
  toAllocRungs,
  usableRungs,
} from '../../core/sessions/allocate.js';

const FULL = toAllocRungs(LADDERS.full);
const TILE = toAllocRungs(LADDERS.tile);
const PASS = toAllocRungs(LADDERS.passthrough, 6000);
/** A `wall` stream (decision D28): short parts on 1080p and 720p, long ones on the 360p tile rung. */
const WALL = toAllocRungs(LADDERS.full, undefined, 'wall');

const rungSet = fc.constantFrom(FULL, TILE, PASS, [
  ...FULL,
  { name: '180p', width: 320, height: 180, costKbps: 250 },
]);
const tileArb: fc.Arbitrary<AllocTile> = fc.record({
  streamId: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null, freq: 6 }),
  rungs: rungSet,
  widthPx: fc.integer({ min: 0, max: 3840 }),
  heightPx: fc.integer({ min: 0, max: 2160 }),
  struggling: fc.boolean(),
});
const inputArb = fc
  .record({
    tiles: fc.array(tileArb, { minLength: 1, maxLength: 25 }),
    bandwidthKbps: fc.integer({ min: 0, max: 200_000 }),
    focusPick: fc.option(fc.nat(), { nil: null }),
  })
  .map(({ tiles, bandwidthKbps, focusPick }) => ({
    tiles,
    bandwidthKbps,
    focus: focusPick === null ? null : focusPick % tiles.length,
  }));

const cost = (tiles: readonly AllocTile[], names: readonly (string | null)[]) =>
  names.reduce((sum, n, i) => sum + (tiles[i]?.rungs.find((r) => r.name === n)?.costKbps ?? 0), 0);

describe('bandwidth allocator', () => {
  it('never goes over budget, with or without a previous answer', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.integer({ min: 0, max: 200_000 }),
        ({ tiles, bandwidthKbps, focus }, earlierBw) => {
          const previous = allocate({ tiles, focus, bandwidthKbps: earlierBw, nowMs: 0 });
          for (const prev of [undefined, previous]) {
            const result = allocate({ tiles, focus, bandwidthKbps, previous: prev, nowMs: 10_000 });
            expect(cost(tiles, result.renditions)).toBeLessThanOrEqual(bandwidthKbps * HEADROOM + 1e-9);
            expect(result.costKbps).toBeCloseTo(cost(tiles, result.renditions));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the focused tile the highest usable rung that fits alongside the other tiles’ floors', () => {
    fc.assert(
      fc.property(inputArb, ({ tiles, bandwidthKbps, focus }) => {
        fc.pre(focus !== null && tiles[focus]?.streamId !== null);
        const f = focus as number;
        const result = allocate({ tiles, focus, bandwidthKbps, nowMs: 0 });
        const target = bandwidthKbps * HEADROOM * MARGIN;
        const got = result.renditions[f];
        if (got === null) {
          // Nothing fits at all: the focused tile's floor alone is over the target.
          const floor = usableRungs(tiles[f] as AllocTile)[0] as AllocRung;
          expect(floor.costKbps).toBeGreaterThan(target);
          return;
        }
        const usable = usableRungs(
          tiles[f] as AllocTile,
          (tiles[f] as AllocTile).struggling ? TILE_RUNG.height : undefined,
        );
        const mine = usable.find((r) => r.name === got) as AllocRung;
        expect(mine).toBeDefined();
        // Every other playing tile costs at least its floor; no better rung would have fitted with those.
        const othersAtFloor = result.renditions.reduce((sum, n, i) => {
          if (i === f || n === null) return sum;
          const tile = tiles[i] as AllocTile;
          return sum + ((usableRungs(tile, TILE_RUNG.height)[0] as AllocRung).costKbps ?? 0);
        }, 0);
        for (const better of usable.filter((r) => r.costKbps > mine.costKbps)) {
          expect(othersAtFloor + better.costKbps).toBeGreaterThan(target);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives a tile a rung larger than the tile (except its lowest), nor an unfocused tile more than the tile rung', () => {
    fc.assert(
      fc.property(inputArb, ({ tiles, bandwidthKbps, focus }) => {
        const result = allocate({ tiles, focus, bandwidthKbps, nowMs: 0 });
        for (const [i, name] of result.renditions.entries()) {
          const tile = tiles[i] as AllocTile;
          if (tile.streamId === null) expect(name).toBeNull();
          if (name === null) continue;
          const rung = tile.rungs.find((r) => r.name === name) as AllocRung;
          const lowest = Math.min(...tile.rungs.map((r) => r.costKbps));
          if (rung.costKbps === lowest) continue;
          expect(rung.width ?? 0).toBeLessThanOrEqual(tile.widthPx);
          expect(rung.height ?? 0).toBeLessThanOrEqual(tile.heightPx);
          if (i !== focus || tile.struggling) {
            expect(rung.height).toBeDefined();
            expect(rung.height as number).toBeLessThanOrEqual(TILE_RUNG.height as number);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is stable under small bandwidth changes (within -15% / +25%)', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.double({ min: 0.86, max: 1.24, noNaN: true }),
        ({ tiles, bandwidthKbps, focus }, factor) => {
          const first = allocate({ tiles, focus, bandwidthKbps, nowMs: 0 });
          const later = allocate({
            tiles,
            focus,
            bandwidthKbps: bandwidthKbps * factor,
            previous: first,
            nowMs: 60_000,
          });
          expect(later.renditions).toEqual(first.renditions);
          expect(later.changed).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('waits HOLD_MS before upgrading, but downgrades at once', () => {
    const tiles: AllocTile[] = [
      { streamId: 'a', rungs: FULL, widthPx: 1920, heightPx: 1080 },
      { streamId: 'b', rungs: FULL, widthPx: 640, heightPx: 360 },
    ];
    const low = allocate({ tiles, focus: 0, bandwidthKbps: 2000, nowMs: 0 });
    expect(low.renditions).toEqual(['360p', '360p']);
    const early = allocate({ tiles, focus: 0, bandwidthKbps: 20_000, previous: low, nowMs: HOLD_MS - 1 });
    expect(early.renditions).toEqual(['360p', '360p']);
    const later = allocate({ tiles, focus: 0, bandwidthKbps: 20_000, previous: low, nowMs: HOLD_MS });
    expect(later.renditions).toEqual(['1080p', '360p']);
    expect(later.changed).toBe(true);
    const drop = allocate({ tiles, focus: 0, bandwidthKbps: 5000, previous: later, nowMs: HOLD_MS + 1 });
    expect(drop.renditions).toEqual(['720p', '360p']);
    const starved = allocate({ tiles, focus: 0, bandwidthKbps: 800, previous: drop, nowMs: HOLD_MS + 2 });
    expect(starved.renditions).toEqual(['360p', null]);
  });

  it('fills a 5x5 wall of tile-ladder streams within the seed’s budget', () => {
    const tiles: AllocTile[] = Array.from({ length: 25 }, (_, i) => ({
      streamId: `s${i}`,
      rungs: TILE,
      widthPx: 384,
      heightPx: 216,
    }));
    const choice = freshAllocation(tiles, 0, 25 * 514);
    expect(choice.every((r) => r?.name === '360p')).toBe(true);
    const fewer = freshAllocation(tiles, 0, 10 * 514);
    expect(fewer.filter((r) => r !== null)).toHaveLength(10);
    expect(fewer[0]?.name).toBe('360p'); // the focused tile is served first
  });

  describe('part durations (decision D28)', () => {
    // A 6-tile wall of `wall` streams on a 1080p screen: 3x3 cells, none as large as the 720p rung.
    const wall = (focusStruggling = false): AllocTile[] =>
      Array.from({ length: 6 }, (_, i) => ({
        streamId: `w${i}`,
        rungs: WALL,
        widthPx: 640,
        heightPx: 360,
        struggling: i === 0 && focusStruggling,
      }));

    it('gives the focused tile of a wall stream its cheapest short-part rung, though larger than the tile', () => {
      const result = allocate({ tiles: wall(), focus: 0, bandwidthKbps: 20_000, nowMs: 0 });
      expect(result.renditions).toEqual(['720p', '360p', '360p', '360p', '360p', '360p']);
      // The same tiles without part targets: the focused tile stays at what fits it (the long-part 360p).
      const plain = wall().map((t) => ({ ...t, rungs: FULL }));
      expect(allocate({ tiles: plain, focus: 0, bandwidthKbps: 20_000, nowMs: 0 }).renditions[0]).toBe(
        '360p',
      );
      // Re-allocating keeps it (the short-part choice is a usable answer for the focused tile).
      const again = allocate({ tiles: wall(), focus: 0, bandwidthKbps: 20_000, previous: result, nowMs: 1 });
      expect([again.renditions, again.changed]).toEqual([result.renditions, false]);
    });

    it('falls back to the long-part tile rung when no short-part rung fits, and when the tile struggles', () => {
      // 720p (2846 kbps) + five 360p (514 each) need 5416 kbps of target: 4000 kbps of bandwidth gives 2720.
      const starved = allocate({ tiles: wall(), focus: 0, bandwidthKbps: 4000, nowMs: 0 });
      expect(starved.renditions[0]).toBe('360p');
      expect(starved.renditions.filter((r) => r !== null).length).toBeGreaterThan(1);
      expect(allocate({ tiles: wall(true), focus: 0, bandwidthKbps: 20_000, nowMs: 0 }).renditions[0]).toBe(
        '360p',
      );
    });

    it('keeps only the shortest-part rungs, and every rung of a stream with one part duration', () => {
      expect(
        shortPartRungs({ streamId: 'w', rungs: WALL, widthPx: 0, heightPx: 0 }).rungs.map((r) => r.name),
      ).toEqual(['1080p', '720p']);
      const low = toAllocRungs(LADDERS.full, undefined, 'low');
      expect(shortPartRungs({ streamId: 'l', rungs: low, widthPx: 0, heightPx: 0 }).rungs).toHaveLength(3);
    });

    it('never goes over budget with wall streams either', () => {
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom(WALL, FULL, TILE), { minLength: 1, maxLength: 25 }),
          fc.integer({ min: 0, max: 60_000 }),
          fc.nat(),
          (sets, bandwidthKbps, pick) => {
            const tiles = sets.map((rungs, i) => ({ streamId: `s${i}`, rungs, widthPx: 640, heightPx: 360 }));
            const focus = pick % tiles.length;
            const result = allocate({ tiles, focus, bandwidthKbps, nowMs: 0 });
            expect(cost(tiles, result.renditions)).toBeLessThanOrEqual(bandwidthKbps * HEADROOM + 1e-9);
          },
        ),
      );
    });
  });
});
