import { attributeTag, integer, quoted } from './attributes.js';

/** EXT-X-RENDITION-REPORT: where a sibling rendition's live edge is, so a player can switch without a reload. */
export interface RenditionReport {
  readonly uri: string;
  readonly lastMsn: number;
  readonly lastPart?: number;
}

export const renderRenditionReport = (report: RenditionReport): string =>
  attributeTag('EXT-X-RENDITION-REPORT', {
    URI: quoted(report.uri),
    'LAST-MSN': integer(report.lastMsn),
    'LAST-PART': report.lastPart === undefined ? undefined : integer(report.lastPart),
  });
