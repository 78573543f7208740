import { formatFloat } from './attributes.js';

/** Tags that carry a single value or none; each renders one line. */

export const renderHeader = (): string => '#EXTM3U';

/** EXT-X-VERSION: 9 is needed for EXT-X-SKIP (delta updates); 6 covers parts, MAP in media playlists and PDT. */
export const renderVersion = (version: number): string => `#EXT-X-VERSION:${version}`;

/** EXT-X-TARGETDURATION: whole seconds, at least every EXTINF rounded to the nearest integer. */
export const renderTargetDuration = (seconds: number): string => {
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new RangeError(`TARGETDURATION must be a positive integer`);
  return `#EXT-X-TARGETDURATION:${seconds}`;
};

export const renderMediaSequence = (msn: number): string => `#EXT-X-MEDIA-SEQUENCE:${msn}`;

export const renderDiscontinuitySequence = (sequence: number): string =>
  `#EXT-X-DISCONTINUITY-SEQUENCE:${sequence}`;

export const renderDiscontinuity = (): string => '#EXT-X-DISCONTINUITY';

export const renderIndependentSegments = (): string => '#EXT-X-INDEPENDENT-SEGMENTS';

export const renderEndList = (): string => '#EXT-X-ENDLIST';

/** EXT-X-PROGRAM-DATE-TIME with millisecond precision, UTC. */
export const renderProgramDateTime = (epochMs: number): string =>
  `#EXT-X-PROGRAM-DATE-TIME:${new Date(epochMs).toISOString()}`;

/** EXTINF:<duration>, followed by the segment URI line. */
export const renderInf = (durationS: number, uri: string): string =>
  `#EXTINF:${formatFloat(durationS)},\n${uri}`;
