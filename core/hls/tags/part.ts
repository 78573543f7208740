import { attributeTag, enumerated, float, quoted } from './attributes.js';

/** EXT-X-PART: a partial segment of the segment that follows (or of the open segment at the end). */
export interface Part {
  readonly uri: string;
  readonly durationS: number;
  /** The part starts with an independent frame (a player may start decoding here). */
  readonly independent: boolean;
}

export const renderPart = (part: Part): string =>
  attributeTag('EXT-X-PART', {
    DURATION: float(part.durationS),
    URI: quoted(part.uri),
    INDEPENDENT: part.independent ? enumerated('YES') : undefined,
  });
