import * as z from './zod.js';

/** Rendition ladders shared by ingest (what to encode), manifests (what to advertise) and sessions (what to pick). */

export interface Rung {
  /** Rendition name, used in paths: /{streamId}/{name}/playlist.m3u8 */
  readonly name: string;
  /** Output size; undefined for passthrough, where the source decides. */
  readonly width?: number;
  readonly height?: number;
  readonly videoKbps: number;
  readonly maxVideoKbps: number;
  readonly fps: number;
  readonly audioKbps: number;
}

export const LADDER_PRESETS = ['tile', 'full', 'passthrough'] as const;
/** The one ladder schema: stage config, stream records, the control API and the ingest environment parse with it. */
export const LadderPreset = z.enum(LADDER_PRESETS, {
  message: `must be one of ${LADDER_PRESETS.join(', ')}`,
});
export type LadderPreset = z.infer<typeof LadderPreset>;
/** What a stream gets when nobody chose: the multi-view tile rung alone (cheapest to transcode). */
export const DEFAULT_LADDER: LadderPreset = 'tile';

/**
 * The multi-view tile rung: 640x360 is about one tile of a 3x3 wall on a 1080p screen, and at 400 kbps (max 450)
 * with 64 kbps AAC a full 5x5 wall of 25 tiles needs under 13 Mbps.
 */
export const TILE_RUNG: Rung = {
  name: '360p',
  width: 640,
  height: 360,
  videoKbps: 400,
  maxVideoKbps: 450,
  fps: 30,
  audioKbps: 64,
};

export const LADDERS: Readonly<Record<LadderPreset, readonly Rung[]>> = {
  tile: [TILE_RUNG],
  full: [
    {
      name: '1080p',
      width: 1920,
      height: 1080,
      videoKbps: 5000,
      maxVideoKbps: 5500,
      fps: 30,
      audioKbps: 128,
    },
    { name: '720p', width: 1280, height: 720, videoKbps: 2500, maxVideoKbps: 2750, fps: 30, audioKbps: 96 },
    TILE_RUNG,
  ],
  // H.264 input republished as is: one rung whose figures are measured, not configured.
  passthrough: [{ name: 'source', videoKbps: 0, maxVideoKbps: 0, fps: 0, audioKbps: 0 }],
};

export function ladderFor(preset: LadderPreset): readonly Rung[] {
  return LADDERS[preset];
}

/** The smallest rung of a ladder: what a multi-view tile plays and what examples name. */
export function smallestRung(preset: LadderPreset): Rung {
  return LADDERS[preset].at(-1)!;
}
