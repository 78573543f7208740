import { attributeTag, enumerated, float, quoted } from './attributes.js';

/** EXT-X-PART: a partial segment of the segment that follows (or of the open segment at the end). */
export interface Part {
  readonly uri: string;
  readonly durationS: number;
  /** The part starts with an independent frame (a player may start decoding here). */
  readonly independent: boolean;
}

/**
 * Part DURATION to 10 µs (decision D31). Parts of whole frames are not whole milliseconds (4 frames at 30 fps are
 * 133.33 ms): at millisecond precision six of them add up to 0.798 s under an EXTINF of 0.800, and players that lay
 * parts out by the playlist's durations (Shaka Player) leave a 2 ms hole in their buffer at every segment boundary,
 * which they stall on and jump (about 30 stalls a minute, measured). 0.13333 leaves 0.02 ms, under any frame.
 */
const PART_DURATION_DECIMALS = 5;

export const renderPart = (part: Part): string =>
  attributeTag('EXT-X-PART', {
    DURATION: float(part.durationS, PART_DURATION_DECIMALS),
    URI: quoted(part.uri),
    INDEPENDENT: part.independent ? enumerated('YES') : undefined,
  });
