import type { RenditionInfo, RenditionTimeline } from '../hls/index.js';

/** One rendition's live state: what the multivariant playlist needs (info) and the live edge (timeline). */
export interface RenditionState {
  /** Schema version of this JSON value. */
  readonly v: 1;
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
  if (value.v !== 1 || value.timeline === undefined || value.info === undefined) return undefined;
  return value as RenditionState;
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
}
