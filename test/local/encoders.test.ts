import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipArgs, DEFAULT_CLIP, pushArgs } from '../../local/encoders/args.js';
import { availableFont, ensureClip } from '../../local/encoders/clip.js';
import { SyntheticEncoder } from '../../local/encoders/encoder.js';
import { freePort } from '../support/ports.js';
import { running as alive } from '../support/processes.js';

function probe(file: string): { codec_name: string; width?: number; height?: number; duration?: string }[] {
  const out = spawnSync('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,width,height,duration',
    '-of',
    'json',
    file,
  ]);
  return (JSON.parse(out.stdout.toString()) as { streams: never[] }).streams;
}

/** PES packets per MPEG-TS stream id (0xc0: first audio stream, 0xe0: first video stream). */
function pesCounts(ts: Buffer): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i + 188 <= ts.length; i += 188) {
    if (ts[i] !== 0x47 || (ts[i + 1]! & 0x40) === 0) continue;
    const control = (ts[i + 3]! >> 4) & 3;
    if ((control & 1) === 0) continue;
    const at = i + 4 + (control & 2 ? 1 + ts[i + 4]! : 0);
    if (ts[at] === 0 && ts[at + 1] === 0 && ts[at + 2] === 1) {
      const id = ts[at + 3]!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-enc-'));
  clip = await ensureClip(dir, { ...DEFAULT_CLIP, label: 'cam-1', toneHz: 440, fontFile: availableFont() });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('synthetic encoder arguments', () => {
  it('encode HEVC with a keyframe every 0.5 s and no B-frames, plus AAC', () => {
    const args = clipArgs({ ...DEFAULT_CLIP, label: 'cam-1', toneHz: 440 }, 'out.ts');
    expect(args).toContain('libx265');
    expect(args[args.indexOf('-x265-params') + 1]).toBe(
      'keyint=15:min-keyint=15:scenecut=0:bframes=0:log-level=error',
    );
    expect(args[args.indexOf('-c:a') + 1]).toBe('aac');
    expect(args).not.toContain('-vf');
    expect(args.at(-1)).toBe('out.ts');
    const labelled = clipArgs({ ...DEFAULT_CLIP, label: "it's:1", toneHz: 440, fontFile: '/f.ttf' }, 'o.ts');
    expect(labelled[labelled.indexOf('-vf') + 1]).toContain("text='it\\'s\\:1'");
  });

  it('push the clip in real time, looped, without re-encoding, one PES per audio frame', () => {
    expect(pushArgs('clip.ts', 'srt://h:1?streamid=x')).toEqual([
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      'clip.ts',
      '-c',
      'copy',
      '-pes_payload_size',
      '0',
      '-f',
      'mpegts',
      'srt://h:1?streamid=x',
    ]);
  });
});

describe('synthetic encoder', () => {
  it('makes a 16 s HEVC 640x360 clip with AAC audio, once', async () => {
    const streams = probe(clip);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'hevc']);
    const video = streams.find((s) => s.codec_name === 'hevc');
    expect([video?.width, video?.height]).toEqual([640, 360]);
    expect(Number(video?.duration)).toBeCloseTo(16, 1);
    // Each AAC frame (1024 samples at 48 kHz, 46.9 per second) in its own PES, interleaved with the video it plays
    // with: the muxer's default packs about 350 ms of audio per PES, which a real-time push sends in bursts.
    const pes = pesCounts(await readFile(clip));
    expect(pes.get(0xc0)).toBeGreaterThan(16 * 46);
    const before = (await stat(clip)).mtimeMs;
    expect(
      await ensureClip(dir, { ...DEFAULT_CLIP, label: 'cam-1', toneHz: 440, fontFile: availableFont() }),
    ).toBe(clip);
    expect((await stat(clip)).mtimeMs).toBe(before);
  });

  it('pushes over SRT with a passphrase, keeps retrying until the listener is up, and stops cleanly', async () => {
    const port = await freePort();
    const passphrase = 'synthetic-secret-123';
    const encoder = new SyntheticEncoder(
      'cam-1',
      clip,
      `srt://127.0.0.1:${port}?streamid=cam-1&passphrase=${passphrase}&pbkeylen=16`,
    );
    encoder.start();
    // Nobody listens yet: the SRT connect times out (3 s) and the encoder retries with backoff.
    await new Promise((r) => setTimeout(r, 4000));
    const received = join(dir, 'received.ts');
    const listener = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-y',
        '-i',
        `srt://127.0.0.1:${port}?mode=listener&passphrase=${passphrase}&pbkeylen=16`,
        '-t',
        '2',
        '-c',
        'copy',
        '-f',
        'mpegts',
        received,
      ],
      { stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve) => listener.once('exit', resolve));
    expect(code).toBe(0);
    expect(encoder.state.restarts).toBeGreaterThan(0);
    expect(
      probe(received)
        .map((s) => s.codec_name)
        .sort(),
    ).toEqual(['aac', 'hevc']);
    const pid = encoder.pid;
    await encoder.stop();
    if (pid !== undefined) expect(alive(pid)).toBe(false);
    expect(encoder.state.running).toBe(false);
  });
});
