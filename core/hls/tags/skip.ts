import { attributeTag, integer } from './attributes.js';

/** EXT-X-SKIP: in a delta update, stands for the oldest segments the client already has. */
export interface Skip {
  readonly skippedSegments: number;
}

export const renderSkip = (skip: Skip): string =>
  attributeTag('EXT-X-SKIP', { 'SKIPPED-SEGMENTS': integer(skip.skippedSegments) });
