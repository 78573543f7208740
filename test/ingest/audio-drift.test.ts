import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIO_DRIFT_FILTER, softwareAudioArgs } from '../../containers/ingest/src/transcode/ffmpeg-args.js';
import { TILE_RUNG } from '../../core/ladder.js';
import { FFMPEG_QUIET } from '../support/media.js';

const FRAME_MS = 1000 / 30;
/** ffmpeg's mpegts muxer puts the first audio stream on PID 0x101. */
const AUDIO_PID = 0x101;
const dir = mkdtempSync(join(tmpdir(), 'audio-drift-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readTs(b: Uint8Array, i: number): number {
  return (
    ((b[i]! >> 1) & 7) * 2 ** 30 +
    (((b[i + 1]! << 22) | ((b[i + 2]! >> 1) << 15) | (b[i + 3]! << 7) | (b[i + 4]! >> 1)) >>> 0)
  );
}

function writeTs(b: Uint8Array, i: number, value: number): void {
  const lo = value % 2 ** 30;
  b[i] = 0x20 | ((Math.floor(value / 2 ** 30) & 7) << 1) | 1; // '0010' prefix: PTS only
  b[i + 1] = (lo >> 22) & 0xff;
  b[i + 2] = (((lo >> 15) & 0x7f) << 1) | 1;
  b[i + 3] = (lo >> 7) & 0xff;
  b[i + 4] = ((lo & 0x7f) << 1) | 1;
}

/**
 * An input whose audio runs `rate` fast against its timestamps, as from an encoder whose sound card clock is fast and
 * which stamps PTS by the wall clock: every audio PES's PTS pulled towards the first by 1/rate, the samples unchanged.
 */
function squeezeAudioPts(ts: Uint8Array, rate: number): Uint8Array {
  const out = Uint8Array.from(ts);
  let first: number | undefined;
  for (let pos = 0; pos + 188 <= out.length; pos += 188) {
    const p = out.subarray(pos, pos + 188);
    if ((((p[1]! & 0x1f) << 8) | p[2]!) !== AUDIO_PID || (p[1]! & 0x40) === 0) continue;
    const start = ((p[3]! >> 4) & 3) === 3 ? 5 + p[4]! : 4;
    if (p[start + 2] !== 1 || p[start + 7]! >> 6 !== 2) continue;
    const pts = readTs(p, start + 9);
    first ??= pts;
    writeTs(p, start + 9, Math.round(first + (pts - first) / rate));
  }
  return out;
}

/**
 * How late the sound ends against its timestamps (which share the video's clock), ms: a player plays each AAC frame's
 * 1024 samples in full, so samples beyond what the timestamps cover are heard that much after their picture.
 */
function audioLagMs(mp4: string): number {
  const rows = execFileSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'a', '-show_entries', 'packet=pts_time,duration_time'],
    ...['-of', 'csv=p=0', mp4],
  ])
    .toString()
    .trim()
    .split('\n')
    .map((line) => line.split(',').map(Number) as [number, number]);
  const span = rows.at(-1)![0] + rows.at(-1)![1] - rows[0]![0];
  return ((rows.length * 1024) / 48_000 - span) * 1000;
}

function transcode(input: string, output: string, audio: readonly string[]): void {
  execFileSync('ffmpeg', [
    ...FFMPEG_QUIET,
    ...['-y', '-i', input, '-map', '0:v:0', '-map', '0:a:0'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', ...audio],
    ...['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof+cmaf', output],
  ]);
}

describe('audio drift correction in the transcode (decision D42)', () => {
  it('keeps the output A/V offset within one frame of an input whose audio runs 1 % fast for 20 s', () => {
    const plain = join(dir, 'plain.ts');
    execFileSync('ffmpeg', [
      ...FFMPEG_QUIET,
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
      ...['-t', '20', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30'],
      ...['-c:a', 'aac', '-f', 'mpegts', '-y', plain],
    ]);
    // 1 % for 20 s is the 0.1 % for 10 minutes scaled down in time: 200 ms against 600 ms, both many frames.
    const drifting = join(dir, 'drifting.ts');
    writeFileSync(drifting, squeezeAudioPts(new Uint8Array(readFileSync(plain)), 1.01));
    const corrected = softwareAudioArgs(TILE_RUNG);
    expect(corrected.slice(0, 2)).toEqual(['-af', AUDIO_DRIFT_FILTER]);
    const uncorrected = corrected.slice(2);

    transcode(drifting, join(dir, 'before.mp4'), uncorrected);
    transcode(drifting, join(dir, 'after.mp4'), corrected);
    transcode(plain, join(dir, 'steady.mp4'), corrected);
    const before = audioLagMs(join(dir, 'before.mp4'));
    const after = audioLagMs(join(dir, 'after.mp4'));
    console.log(
      `output audio lag, 1 % fast audio over 20 s: before ${before.toFixed(1)} ms, after ${after.toFixed(1)} ms`,
    );
    expect(before).toBeGreaterThan(150);
    expect(Math.abs(after)).toBeLessThan(FRAME_MS);
    // A steady input is left as it is.
    expect(Math.abs(audioLagMs(join(dir, 'steady.mp4')))).toBeLessThan(FRAME_MS);
  });
});
