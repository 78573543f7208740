import { describe, expect, it } from 'vitest';
import { buildMediaPlaylist, renderMediaPlaylist, Segmenter } from '../../core/hls/index.js';
import { LADDER_PRESETS, LADDERS, type Rung, TILE_RUNG } from '../../core/ladder.js';
import {
  framesMs,
  LATENCY_PROFILES,
  PROFILE_TARGETS,
  type ProfileTargets,
  partTargetMsFor,
  profileProblems,
  renditionTargets,
} from '../../core/latency-profiles.js';

const B = 'mh3k2x9a7q4f';
const T0 = Date.UTC(2026, 11, 1);
/** ffmpeg's mp4 timescale for 30 fps video: 512 ticks a frame. */
const TIMESCALE = 15_360;
const FRAME_TICKS = 512;

/** What a rendition's playlist says after `seconds` of 30 fps media cut as ffmpeg cuts it for these targets. */
function renditionPlaylist(rung: Rung, ladder: readonly Rung[], profile: (typeof LATENCY_PROFILES)[number]) {
  const targets = renditionTargets(profile, ladder, rung);
  const s = new Segmenter({ ...targets, broadcast: B });
  const partFrames = Math.round((targets.partTargetMs * 30) / 1000);
  const gopFrames = Math.round((targets.segmentTargetMs * 30) / 1000);
  let frame = 0;
  while (frame < 30 * 6) {
    // A fragment ends at frag_duration or at the next keyframe (frag_keyframe), whichever comes first.
    const toKeyframe = gopFrames - (frame % gopFrames);
    const frames = Math.min(partFrames, toKeyframe);
    s.addPart(
      {
        baseDecodeTime: frame * FRAME_TICKS,
        duration: frames * FRAME_TICKS,
        timescale: TIMESCALE,
        independent: frame % gopFrames === 0,
        bytes: 1000,
        initVersion: 1,
      },
      T0 + (frame * 1000) / 30,
    );
    frame += frames;
  }
  const timeline = s.timeline();
  const text = renderMediaPlaylist(buildMediaPlaylist(timeline));
  const attr = (tag: string, name: string) =>
    Number(new RegExp(`${tag}:.*${name}=([0-9.]+)`).exec(text)?.[1]);
  return {
    partTargetS: attr('#EXT-X-PART-INF', 'PART-TARGET'),
    partHoldBackS: attr('#EXT-X-SERVER-CONTROL', 'PART-HOLD-BACK'),
    partDurationsS: [...text.matchAll(/#EXT-X-PART:DURATION=([0-9.]+)/g)].map((m) => Number(m[1])),
    segmentDurationsS: timeline.segments.map((x) => +x.durationS.toFixed(4)),
  };
}

describe('latency profiles (decision D28)', () => {
  it('every profile keeps the LL-HLS rules on every ladder', () => {
    for (const profile of LATENCY_PROFILES) {
      for (const ladder of LADDER_PRESETS) {
        expect(profileProblems(PROFILE_TARGETS[profile], LADDERS[ladder]), `${profile} on ${ladder}`).toEqual(
          [],
        );
      }
    }
  });

  it('names each broken rule', () => {
    const full = LADDERS.full;
    const broken = (targets: ProfileTargets) => profileProblems(targets, full).join('\n');
    // 3 parts of 300 ms do not make an 800 ms segment.
    expect(broken({ partMs: 300, tilePartMs: 400, segmentMs: 800 })).toMatch(
      /1080p.*not a whole number of parts/,
    );
    // A tile part longer than the segment.
    expect(broken({ partMs: framesMs(4), tilePartMs: 1000, segmentMs: 800 })).toMatch(/360p.*longer than/);
    // 250 ms is 7.5 frames at 30 fps: every part would come out at 8 frames, longer than PART-TARGET.
    expect(broken({ partMs: 250, tilePartMs: 250, segmentMs: 1000 })).toMatch(/not a whole number of frames/);
    expect(broken({ partMs: 20, tilePartMs: 20, segmentMs: 800 })).toMatch(/outside \[one frame/);
    expect(broken({ partMs: framesMs(4), tilePartMs: framesMs(4), segmentMs: 12_000 })).toMatch(/segmentMs/);
  });

  it('gives the tile rung of a multi-rung ladder its own part target, and a one-rung ladder the full-size one', () => {
    expect(LADDERS.full.map((r) => partTargetMsFor('wall', LADDERS.full, r))).toEqual([
      framesMs(4),
      framesMs(4),
      framesMs(12),
    ]);
    expect(partTargetMsFor('wall', LADDERS.tile, LADDERS.tile[0] as Rung)).toBe(framesMs(4));
  });

  it('per rendition: PART-TARGET is its own part, PART-HOLD-BACK >= 3 of them, parts within it, segments aligned', () => {
    for (const profile of LATENCY_PROFILES) {
      const ladder = LADDERS.full;
      const playlists = ladder.map((rung) => ({ rung, ...renditionPlaylist(rung, ladder, profile) }));
      for (const p of playlists) {
        const partS = partTargetMsFor(profile, ladder, p.rung) / 1000;
        // Its own part, rounded up to the millisecond (a part never exceeds what the playlist says).
        expect(p.partTargetS, `${profile} ${p.rung.name}`).toBeGreaterThanOrEqual(partS);
        expect(p.partTargetS).toBeLessThan(partS + 0.001);
        expect(p.partHoldBackS).toBeGreaterThanOrEqual(3 * p.partTargetS - 1e-9);
        for (const d of p.partDurationsS) expect(d).toBeLessThanOrEqual(p.partTargetS);
        // Segment boundaries (keyframes) at the same media times on every rung.
        expect(p.segmentDurationsS).toEqual(playlists[0]?.segmentDurationsS);
      }
    }
  });

  it('meets the request goals: 2 requests per part (blocking playlist + part)', () => {
    const perSecond = (partMs: number) => 2 * (1000 / partMs);
    // $0.0375 per viewer-hour (IVS Low-Latency SD) with about $0.004/h of bytes: at most 9.3 requests/s.
    expect(perSecond(PROFILE_TARGETS.standard.partMs)).toBeLessThanOrEqual(9.3);
    // Twice that price: at most 20 requests/s with the bytes (100 ms parts, exactly 20, are over).
    expect(perSecond(PROFILE_TARGETS.low.partMs)).toBeLessThan(19.7);
    // A 6-tile wall: 1 focused tile on a full-size rung, 5 on the tile rung, at most 40 requests/s.
    const wall = PROFILE_TARGETS.wall;
    expect(perSecond(wall.partMs) + 5 * perSecond(wall.tilePartMs)).toBeLessThanOrEqual(40 + 1e-9);
  });

  it('a timeline resumed under shorter parts (its profile changed) keeps PART-TARGET over the parts still listed', () => {
    const long = new Segmenter({ partTargetMs: 400, segmentTargetMs: 800, broadcast: B });
    for (let i = 0; i < 6; i++) {
      const input = {
        duration: 6144,
        timescale: TIMESCALE,
        independent: i % 2 === 0,
        bytes: 1,
        initVersion: 1,
      };
      long.addPart({ ...input, baseDecodeTime: i * 6144 }, T0 + i * 400);
    }
    long.finish(false);
    const short = new Segmenter({ ...renditionTargets('low', LADDERS.tile, TILE_RUNG), broadcast: B });
    short.resume(long.timeline(), 2);
    expect(short.timeline().partTargetS).toBeCloseTo(0.4, 6);
  });
});
