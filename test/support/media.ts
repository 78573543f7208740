import { spawn } from 'node:child_process';
import { X264_LOW_LATENCY } from '../../containers/ingest/src/transcode/ffmpeg-args.js';

/** Only errors reach ffmpeg's stderr, so a failing test shows just what went wrong. */
export const FFMPEG_QUIET = ['-hide_banner', '-loglevel', 'error'];

/** The synthetic inputs of every test encode: the testsrc2 pattern at 30 fps and, unless `audio` is false, a tone. */
export function testPatternInputs(size: string, options: { audio?: boolean } = {}): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=30`,
    ...(options.audio === false ? [] : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']),
  ];
}

/**
 * 4:2:0 pixels (without it the encoders keep the pattern's full chroma, a profile browsers do not play) and AAC at
 * the tile rung's 64 kbps.
 */
export const TEST_PIXELS_AND_AUDIO = ['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'];

/** ffmpeg arguments for the LL-HLS test source: libx264, keyframe every 0.5 s at 30 fps, 100 ms fragments. */
export function testSourceArgs(
  options: { seconds?: number; realtime?: boolean; size?: string } = {},
): string[] {
  return [
    ...FFMPEG_QUIET,
    ...(options.realtime ? ['-re'] : []),
    ...testPatternInputs(options.size ?? '320x240'),
    ...(options.seconds === undefined ? [] : ['-t', String(options.seconds)]),
    ...X264_LOW_LATENCY,
    '-g',
    '15',
    '-keyint_min',
    '15',
    '-sc_threshold',
    '0',
    ...TEST_PIXELS_AND_AUDIO,
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof+cmaf',
    '-frag_duration',
    '100000',
    'pipe:1',
  ];
}

/** Runs ffmpeg and resolves to what it wrote on stdout; rejects with its stderr when it fails. */
export async function ffmpegStdout(args: readonly string[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => chunks.push(d));
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0
        ? resolve(new Uint8Array(Buffer.concat(chunks)))
        : reject(new Error(`ffmpeg exited ${code}: ${stderr}`)),
    );
  });
}

/** Encodes `seconds` of the test source to a fragmented MP4 in memory, read from ffmpeg's stdout pipe. */
export async function encodeTestSource(seconds: number): Promise<Uint8Array> {
  return ffmpegStdout(testSourceArgs({ seconds }));
}

/** Video frames of a file as ffprobe decodes them; rejects if ffprobe reports any error. */
export async function ffprobeFrames(file: string): Promise<{ pict_type: string; key_frame: number }[]> {
  const out = await new Promise<string>((resolve, reject) => {
    const proc = spawn('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_frames',
      '-show_entries',
      'frame=pict_type,key_frame',
      '-of',
      'json',
      file,
    ]);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on('close', (code) =>
      code === 0 && stderr === '' ? resolve(stdout) : reject(new Error(`ffprobe ${code}: ${stderr}`)),
    );
  });
  return (JSON.parse(out) as { frames: { pict_type: string; key_frame: number }[] }).frames;
}
