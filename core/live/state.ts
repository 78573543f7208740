import type { RenditionInfo, RenditionTimeline } from '../hls/index.js';

/**
 * Schema version of RenditionState. 2: segments, the open segment and the timeline carry their broadcast (decision
 * D16). A state of another version is ignored, not migrated: it expires LIVE_TTL_S after its last publish, and a
 * packager that finds none starts afresh (new names anyway).
 */
export const RENDITION_STATE_VERSION = 2;

/** One rendition's live state: what the multivariant playlist needs (info) and the live edge (timeline). */
export interface RenditionState {
  /** Schema version of this JSON value. */
  readonly v: typeof RENDITION_STATE_VERSION;
  readonly info: RenditionInfo;
  readonly timeline: RenditionTimeline;
  /** Epoch ms of this publish. */
  readonly publishedAtMs: number;
}

export interface StreamSnapshot {
  readonly streamId: string;
  /** Renditions by name, in name order. */
  readonly renditions: ReadonlyMap<string, RenditionState>;
}

/** Parses one hash field; a value of another schema version is ignored rather than misread. */
export function parseRenditionState(json: string): RenditionState | undefined {
  const value = JSON.parse(json) as Partial<RenditionState>;
  if (value.v !== RENDITION_STATE_VERSION || value.timeline === undefined || value.info === undefined)
    return undefined;
  return value as RenditionState;
}

/** The highest media sequence and discontinuity numbers a timeline has used (its last segment's). */
export interface SequenceEnd {
  readonly msn: number;
  readonly discontinuity: number;
}

/** Where a timeline's numbering ends: a later timeline of the same rendition starts above both numbers. */
export function sequenceEnd(timeline: RenditionTimeline): SequenceEnd | undefined {
  const open = timeline.open;
  const discontinuities =
    timeline.segments.filter((s) => s.discontinuity).length + (open?.discontinuity === true ? 1 : 0);
  const msn = open?.msn ?? timeline.segments.at(-1)?.msn;
  return msn === undefined
    ? undefined
    : { msn, discontinuity: timeline.discontinuitySequence + discontinuities };
}

/** What the packager needs of the live state (implemented by core/adapters/live/live-state.ts on Redis). */
export interface LiveStatePort {
  /** Atomically replaces one rendition's state and wakes its waiters with `notice`. */
  publish(
    streamId: string,
    rendition: string,
    state: RenditionState,
    notice: { msn: number; part: number },
  ): Promise<void>;
  /** The whole stream, or undefined when it is not live. */
  read(streamId: string): Promise<StreamSnapshot | undefined>;
  /** Where the rendition's last published timeline ended, kept after the live state expired (decision D24). */
  lastSequences?(streamId: string, rendition: string): Promise<SequenceEnd | undefined>;
}
