import { attributeTag, quoted } from './attributes.js';

/** EXT-X-MAP: the init segment that applies to the segments after it. */
export interface MapTag {
  readonly uri: string;
}

export const renderMap = (map: MapTag): string => attributeTag('EXT-X-MAP', { URI: quoted(map.uri) });
