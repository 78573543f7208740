import { attributeTag, float } from './attributes.js';

/** EXT-X-PART-INF: PART-TARGET in seconds, at least every part's DURATION. */
export interface PartInf {
  readonly partTargetS: number;
}

export const renderPartInf = (partInf: PartInf): string =>
  attributeTag('EXT-X-PART-INF', { 'PART-TARGET': float(partInf.partTargetS) });
