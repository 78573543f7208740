import * as z from '../zod.js';

/**
 * Multi-view layouts. Each tile is a rectangle in fractions of the player area; the viewer draws them and
 * reports their size in device pixels with each heartbeat. In `focus-strip` and `pip`, tile 0 is the
 * large one.
 */
export const LAYOUTS = ['1x1', '2x2', '3x3', '4x4', '5x5', 'focus-strip', 'pip'] as const;
export const Layout = z.enum(LAYOUTS);
export type Layout = z.infer<typeof Layout>;

export interface TileRect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Tiles along the bottom of `focus-strip`. */
export const STRIP_TILES = 4;
/** Height share of the strip. */
const STRIP_HEIGHT = 0.25;

export function layoutTiles(layout: Layout): TileRect[] {
  switch (layout) {
    case 'focus-strip':
      return [
        { x: 0, y: 0, w: 1, h: 1 - STRIP_HEIGHT },
        ...Array.from({ length: STRIP_TILES }, (_, i) => ({
          x: i / STRIP_TILES,
          y: 1 - STRIP_HEIGHT,
          w: 1 / STRIP_TILES,
          h: STRIP_HEIGHT,
        })),
      ];
    case 'pip':
      return [
        { x: 0, y: 0, w: 1, h: 1 },
        { x: 0.7, y: 0.68, w: 0.28, h: 0.28 },
      ];
    default: {
      const n = Number(layout[0]);
      return Array.from({ length: n * n }, (_, i) => ({
        x: (i % n) / n,
        y: Math.floor(i / n) / n,
        w: 1 / n,
        h: 1 / n,
      }));
    }
  }
}

export function tileCount(layout: Layout): number {
  return layoutTiles(layout).length;
}

/** Layouts with one main tile focus it by default. */
export function defaultFocus(layout: Layout): number | null {
  return layout === '1x1' || layout === 'focus-strip' || layout === 'pip' ? 0 : null;
}
