import { describe, expect, it } from 'vitest';
import { TsAnalyzer } from '../../containers/ingest/src/transcode/ts-analyzer.js';
import { TS_PACKET_SIZE } from '../../containers/ingest/src/transcode/ts-probe.js';
import { FFMPEG_QUIET, ffmpegStdout } from '../support/media.js';

const FRAME_MS = 1000 / 30;

/** `seconds` of a 30 fps H.264 (or HEVC) + AAC MPEG-TS with a keyframe every `gop` frames. */
function clip(o: { gop: number; bframes: number; audioOffsetS?: number; hevc?: boolean; seconds?: number }) {
  const seconds = String(o.seconds ?? 4);
  return ffmpegStdout([
    ...FFMPEG_QUIET,
    ...['-f', 'lavfi', '-t', seconds, '-i', 'testsrc2=size=160x90:rate=30'],
    ...(o.audioOffsetS === undefined ? [] : ['-itsoffset', String(o.audioOffsetS)]),
    ...['-f', 'lavfi', '-t', seconds, '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-map', '0:v', '-map', '1:a', '-pix_fmt', 'yuv420p'],
    ...(o.hevc ? ['-c:v', 'libx265', '-x265-params', 'log-level=error'] : ['-c:v', 'libx264']),
    ...['-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0', '-bf', String(o.bframes)],
    ...['-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', 'pipe:1'],
  ]);
}

/** Feeds the TS in SRT-sized chunks (7 packets), each cut mid-packet to exercise the carry. */
function analyse(ts: Uint8Array): TsAnalyzer {
  const analyzer = new TsAnalyzer();
  for (let at = 0; at < ts.length; at += 1000) analyzer.push(ts.subarray(at, at + 1000), at / 1000);
  return analyzer;
}

describe('TsAnalyzer on real ffmpeg output', () => {
  it('reads GOP length, frame rate and no B-frames from -g 30 -bf 0', async () => {
    const s = analyse(await clip({ gop: 30, bframes: 0 })).stats.snapshot();
    expect(s.gop).toMatchObject({ frames: 30, minFrames: 30, maxFrames: 30, stddevFrames: 0 });
    expect(s.gop!.ms).toBeCloseTo(1000, 0);
    expect(s.bFrames).toBe(false);
    expect(s.fps).toBeCloseTo(30, 1);
    expect(s.continuityErrors).toBe(0);
    expect(s.videoFrames).toBe(120);
  });

  it('reads B-frames and a 2 s GOP from -g 60 -bf 2', async () => {
    const s = analyse(await clip({ gop: 60, bframes: 2 })).stats.snapshot();
    expect(s.bFrames).toBe(true);
    expect(s.gop).toMatchObject({ frames: 60, minFrames: 60, maxFrames: 60 });
    expect(s.fps).toBeCloseTo(30, 1);
  });

  it('finds HEVC keyframes by their NAL units', async () => {
    const s = analyse(await clip({ gop: 15, bframes: 0, hevc: true, seconds: 2 })).stats.snapshot();
    expect(s.gop).toMatchObject({ frames: 15, minFrames: 15, maxFrames: 15 });
  });

  it('measures an audio offset made with -itsoffset within one frame', async () => {
    const s = analyse(await clip({ gop: 30, bframes: 0, audioOffsetS: 0.2 })).stats.snapshot();
    expect(Math.abs(s.startOffsetMs! - 200)).toBeLessThanOrEqual(FRAME_MS);
    const none = analyse(await clip({ gop: 30, bframes: 0 })).stats.snapshot();
    expect(Math.abs(none.startOffsetMs!)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('counts one continuity error per dropped packet', async () => {
    const ts = await clip({ gop: 30, bframes: 0 });
    const packets: Uint8Array[] = [];
    for (let at = 0; at + TS_PACKET_SIZE <= ts.length; at += TS_PACKET_SIZE) {
      packets.push(ts.subarray(at, at + TS_PACKET_SIZE));
    }
    // Drop 5 video packets that carry payload, far apart: the next one of that PID jumps its counter by 2. (A packet
    // with only an adaptation field does not advance the counter, so dropping one is no error.)
    const videoPayload = packets
      .map((p, i) => ({ i, pid: ((p[1]! & 0x1f) << 8) | p[2]!, payload: (p[3]! & 0x10) !== 0 }))
      .filter((p) => p.pid === 0x100 && p.payload)
      .map((p) => p.i);
    const dropped = new Set([50, 150, 250, 350, 450].map((n) => videoPayload[n]!));
    const kept = packets.filter((_, i) => !dropped.has(i));
    const s = analyse(Buffer.concat(kept)).stats.snapshot();
    expect(s.continuityErrors).toBe(5);
    expect(analyse(ts).stats.snapshot().continuityErrors).toBe(0);
  });
});
