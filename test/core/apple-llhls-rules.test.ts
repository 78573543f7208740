import HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import {
  buildMediaPlaylist,
  buildMultivariantPlaylist,
  nextPart,
  renderMediaPlaylist,
  renderMultivariantPlaylist,
  Segmenter,
  skippableSegments,
} from '../../core/hls/index.js';
import { LATENCY_PROFILES, PROFILE_FPS, PROFILE_TARGETS } from '../../core/latency-profiles.js';

/**
 * Apple's Low-Latency HLS server rules (docs/llhls.md, "Apple's server rules") that Safari and AVPlayer rely on, checked
 * on the playlists of every latency profile as rendered (parts of whole frames: 4 frames are 133.33 ms, rendered 0.134),
 * not only on the 100 ms parts of the golden files. Native HLS cannot be run here, so the rules are what is tested.
 */

const TIMESCALE = 90_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A live rendition fed `seconds` of parts of `partMs` (frames at PROFILE_FPS), a keyframe every segment. */
function liveTimeline(partMs: number, segmentMs: number, seconds: number) {
  const s = new Segmenter({ partTargetMs: partMs, segmentTargetMs: segmentMs, broadcast: 'mh3k2x9a7q4f' });
  const framesPerPart = Math.round((partMs * PROFILE_FPS) / 1000);
  const partsPerSegment = Math.round(segmentMs / partMs);
  const frameTicks = TIMESCALE / PROFILE_FPS;
  const count = Math.round((seconds * 1000) / partMs);
  for (let i = 0; i < count; i++) {
    s.addPart(
      {
        baseDecodeTime: i * framesPerPart * frameTicks,
        duration: framesPerPart * frameTicks,
        timescale: TIMESCALE,
        independent: i % partsPerSegment === 0,
        bytes: 1000,
        initVersion: 1,
      },
      T0 + i * partMs,
    );
  }
  return s.timeline();
}

const cases = LATENCY_PROFILES.flatMap((profile) => {
  const t = PROFILE_TARGETS[profile];
  return [...new Set([t.partMs, t.tilePartMs])].map((partMs) => ({
    profile,
    partMs,
    segmentMs: t.segmentMs,
  }));
});

describe.each(cases)("Apple's LL-HLS server rules: $profile, $partMs ms parts", ({ partMs, segmentMs }) => {
  const timeline = liveTimeline(partMs, segmentMs, 12);
  const text = renderMediaPlaylist(buildMediaPlaylist(timeline));
  const parsed = HLS.parse(text) as HLS.types.MediaPlaylist;
  const partTargetS = Number(/#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(text)?.[1]);
  const control = /#EXT-X-SERVER-CONTROL:(.*)/.exec(text)?.[1] ?? '';
  const attr = (name: string) => Number(new RegExp(`${name}=([\\d.]+)`).exec(control)?.[1]);

  it('advertises blocking reload (CAN-BLOCK-RELOAD=YES) and delta updates (CAN-SKIP-UNTIL >= 6 target durations)', () => {
    expect(control).toContain('CAN-BLOCK-RELOAD=YES');
    expect(attr('CAN-SKIP-UNTIL')).toBeGreaterThanOrEqual(6 * parsed.targetDuration);
    expect(skippableSegments(timeline)).toBeGreaterThan(0);
  });

  it('holds players back at least 3 part targets (PART-HOLD-BACK) and 3 target durations (HOLD-BACK)', () => {
    expect(attr('PART-HOLD-BACK')).toBeGreaterThanOrEqual(3 * partTargetS - 1e-9);
    expect(attr('HOLD-BACK')).toBeGreaterThanOrEqual(3 * parsed.targetDuration);
  });

  it('lists no part longer than PART-TARGET, and PART-TARGET within a frame of the profile part', () => {
    const durations = [...text.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)].map((m) => Number(m[1]));
    expect(durations.length).toBeGreaterThan(0);
    for (const d of durations) expect(d).toBeLessThanOrEqual(partTargetS);
    expect(partTargetS * 1000 - partMs).toBeLessThan(1000 / PROFILE_FPS);
  });

  it('lists parts that add up to their segment: the sum of DURATIONs is the EXTINF (no hole for players that lay parts out by them)', () => {
    // Players such as Shaka place each part by the playlist's durations: at millisecond precision six 133.33 ms parts
    // read 0.798 s under an EXTINF of 0.800, a 2 ms hole in the buffer at every segment boundary (D31).
    let partsS = 0;
    let checked = 0;
    for (const line of text.split('\n')) {
      const part = /^#EXT-X-PART:DURATION=([\d.]+)/.exec(line);
      if (part) partsS += Number(part[1]);
      const extinf = /^#EXTINF:([\d.]+),/.exec(line);
      if (!extinf) continue;
      if (partsS > 0) {
        expect(Math.abs(partsS - Number(extinf[1])), line).toBeLessThan(0.0001);
        checked++;
      }
      partsS = 0;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('hints exactly one part, the next one, and dates every segment (EXT-X-PROGRAM-DATE-TIME)', () => {
    const hints = [...text.matchAll(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/g)].map((m) => m[1]);
    const next = nextPart(timeline);
    expect(hints).toEqual([`mh3k2x9a7q4f/part-${next.msn}-${next.part}.m4s`]);
    expect(parsed.segments.every((s) => s.programDateTime instanceof Date)).toBe(true);
  });

  it('leaves where to start to the player: no EXT-X-START in a live playlist (RFC 8216bis 4.4.2.2, D35)', () => {
    // A live playlist's TIME-OFFSET SHOULD NOT be within 3 target durations of its end: a compliant one would hold
    // every player 3 s back, and one nearer the end would move Safari, AVPlayer and Media3 as well as hls.js (D35).
    const multivariant = renderMultivariantPlaylist(
      buildMultivariantPlaylist([
        { name: '360p', info: { codecs: ['avc1.64001e', 'mp4a.40.2'], width: 640, height: 360 }, timeline },
      ]),
    );
    expect(text).not.toContain('#EXT-X-START');
    expect(multivariant).not.toContain('#EXT-X-START');
  });
});
