// The session API's answers as the viewer reads them, and the wall's pure decisions on them.

/** A tile's place in the wall, as fractions (0..1) of its width and height. */
export interface TileRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TileView {
  index: number;
  streamId: string | null;
  rect: TileRect;
  /** The rendition to play; null pauses the tile (it does not fit the bandwidth). */
  rendition: string | null;
  master: string | null;
  /** The stream's DVR multivariant playlist (decision D43): what the tile's DVR mode plays. */
  dvr?: string | null;
}

export interface SessionView {
  sessionId: string;
  token?: string;
  layout: string;
  focus: number | null;
  tiles: TileView[];
  heartbeatIntervalMs: number;
  budgetKbps: number;
}

export interface PublicStream {
  id: string;
  name: string;
  live: boolean;
  /** The live stream's latest picture (decision D41). */
  thumbnailUrl?: string;
}

/** How many tiles a layout has: `NxN` grids, picture-in-picture 2, otherwise (focus layouts) 5. */
export function layoutCapacity(layout: string): number {
  return Number(/^(\d)x\1$/.exec(layout)?.[1] ?? 0) ** 2 || (layout === 'pip' ? 2 : 5);
}

/**
 * The wall the page opens with, from its query (`?layout=3x3&streams=a,b`): the streams named, else every
 * live one, as many as the layout holds. The layout defaults to 2x2.
 */
export function initialWall(
  search: string,
  streams: readonly PublicStream[],
): { layout: string; tiles: string[] } {
  const params = new URLSearchParams(search);
  const layout = params.get('layout') ?? '2x2';
  const wanted = params.get('streams')?.split(',').filter(Boolean);
  const tiles = (wanted ?? streams.filter((s) => s.live).map((s) => s.id)).slice(0, layoutCapacity(layout));
  return { layout, tiles };
}

/** Where a stream picked from the list goes: the focused tile, else the first empty one, else the first. */
export function tileForPickedStream(session: {
  readonly focus: number | null;
  readonly tiles: readonly Pick<TileView, 'index' | 'streamId'>[];
}): number {
  return session.focus ?? session.tiles.find((t) => t.streamId === null)?.index ?? 0;
}
