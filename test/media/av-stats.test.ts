import { describe, expect, it } from 'vitest';
import { AvStats, GOP_WINDOW, PTS_WRAP } from '../../core/media/av-stats.js';

const TICKS_PER_FRAME = 3000; // 30 fps at 90 kHz
const AUDIO_TICKS = 1920; // one AAC frame at 48 kHz

/** Feeds `seconds` of a 30 fps video (keyframe every `gop` frames) and AAC audio whose PTS run `audioRate` fast. */
function feed(
  stats: AvStats,
  o: { seconds: number; gop: number; offsetMs?: number; audioRate?: number; base?: number },
) {
  const base = o.base ?? 900_000;
  const events: { at: number; run: () => void }[] = [];
  for (let f = 0; f < o.seconds * 30; f++) {
    const at = (f * 1000) / 30;
    const pts = (base + f * TICKS_PER_FRAME) % PTS_WRAP;
    events.push({ at, run: () => stats.video(pts, undefined, f % o.gop === 0, 10_000 + at) });
  }
  for (let a = 0; (a * AUDIO_TICKS) / 90 < o.seconds * 1000; a++) {
    const at = (a * AUDIO_TICKS) / 90;
    const pts = (base + Math.round(a * AUDIO_TICKS * (o.audioRate ?? 1) + (o.offsetMs ?? 0) * 90)) % PTS_WRAP;
    events.push({ at, run: () => stats.audio(pts, 10_000 + at) });
  }
  for (const e of events.sort((x, y) => x.at - y.at)) e.run();
}

describe('AvStats', () => {
  it('measures GOP length, frame rate and a steady clock from a regular 30 fps input', () => {
    const stats = new AvStats();
    feed(stats, { seconds: 10, gop: 30 });
    const s = stats.snapshot();
    expect(s.gop).toMatchObject({ frames: 30, ms: 1000, minFrames: 30, maxFrames: 30, stddevFrames: 0 });
    expect(s.fps).toBe(30);
    expect(s.frameIntervalJitterMs).toBe(0);
    expect(s.bFrames).toBe(false);
    expect(Math.abs(s.avOffsetMs!)).toBeLessThan(25);
    expect(s.avDriftMsPerMin).toBeCloseTo(0, 0);
  });

  it('reports an audio PTS lead as a positive offset and its drift as a slope in ms per minute', () => {
    const ahead = new AvStats();
    feed(ahead, { seconds: 5, gop: 30, offsetMs: 200 });
    expect(ahead.snapshot().avOffsetMs).toBeGreaterThan(200 - 25);
    expect(ahead.snapshot().avOffsetMs).toBeLessThan(200 + 25);
    expect(ahead.snapshot().startOffsetMs).toBe(200);
    // Audio timestamps 1% fast against the arrival clock: 600 ms more each minute.
    const drifting = new AvStats();
    feed(drifting, { seconds: 30, gop: 30, audioRate: 1.01 });
    expect(drifting.snapshot().avDriftMsPerMin).toBeGreaterThan(570);
    expect(drifting.snapshot().avDriftMsPerMin).toBeLessThan(630);
  });

  it('shows irregular GOPs in min, max and stddev, bounded to the last GOP_WINDOW GOPs', () => {
    const stats = new AvStats();
    let frame = 0;
    const key = (n: number) => {
      for (let i = 0; i < n; i++, frame++)
        stats.video(frame * TICKS_PER_FRAME, undefined, i === 0, frame * 33);
    };
    for (let g = 0; g < GOP_WINDOW + 10; g++) key(g % 2 === 0 ? 20 : 40);
    key(1);
    const gop = stats.snapshot().gop!;
    expect(gop).toMatchObject({ minFrames: 20, maxFrames: 40, stddevFrames: 10, count: GOP_WINDOW });
  });

  it('detects B-frames from PTS != DTS, and keeps timing across the 33-bit PTS wrap', () => {
    const stats = new AvStats();
    const base = PTS_WRAP - 45 * TICKS_PER_FRAME; // wraps 1.5 s in
    for (let f = 0; f < 120; f++) {
      const dts = (base + f * TICKS_PER_FRAME) % PTS_WRAP;
      const pts = (dts + 2 * TICKS_PER_FRAME) % PTS_WRAP;
      stats.video(pts, dts, f % 60 === 0, f * 33.3);
    }
    const s = stats.snapshot();
    expect(s.bFrames).toBe(true);
    expect(s.fps).toBe(30);
    expect(s.gop).toMatchObject({ frames: 60, ms: 2000 });
  });
});
