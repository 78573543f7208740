import type { MapTag } from './tags/map.js';
import type { Part } from './tags/part.js';
import type { PartInf } from './tags/part-inf.js';
import type { PreloadHint } from './tags/preload-hint.js';
import type { RenditionReport } from './tags/rendition-report.js';
import type { ServerControl } from './tags/server-control.js';
import type { Skip } from './tags/skip.js';
import type { StreamInf } from './tags/stream-inf.js';

export type { MapTag, Part, PartInf, PreloadHint, RenditionReport, ServerControl, Skip, StreamInf };

export interface MediaSegment {
  readonly uri: string;
  readonly durationS: number;
  readonly discontinuity: boolean;
  /** Rendered before the segment when it differs from the previous segment's init (or for the first one). */
  readonly map?: MapTag;
  readonly programDateTimeMs?: number;
  /** Listed only for recent segments. */
  readonly parts: readonly Part[];
}

/** The segment being built: its parts are listed after the last complete segment, without an EXTINF. */
export interface OpenSegment {
  readonly discontinuity: boolean;
  readonly map?: MapTag;
  readonly programDateTimeMs?: number;
  readonly parts: readonly Part[];
}

export interface MediaPlaylist {
  readonly version: number;
  readonly targetDurationS: number;
  readonly serverControl?: ServerControl;
  readonly partInf?: PartInf;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  /** Present in a delta update: the first `skippedSegments` segments after MEDIA-SEQUENCE are omitted. */
  readonly skip?: Skip;
  readonly segments: readonly MediaSegment[];
  readonly open?: OpenSegment;
  readonly preloadHints: readonly PreloadHint[];
  readonly renditionReports: readonly RenditionReport[];
  readonly endList: boolean;
}

export interface MultivariantPlaylist {
  readonly version: number;
  readonly independentSegments: boolean;
  readonly variants: readonly StreamInf[];
}
