import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FFMPEG_QUIET, TEST_PIXELS_AND_AUDIO, testPatternInputs } from '../support/media.js';

/** Test clips, made once per test file: small, so looping them over SRT costs almost no CPU. */
export function makeClip(options: {
  codec: 'h264' | 'hevc';
  width: number;
  height: number;
  seconds?: number;
}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-clip-'));
  const file = join(dir, `clip-${options.codec}-${options.height}.ts`);
  const seconds = String(options.seconds ?? 2);
  const video =
    options.codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-bf', '0']
      : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=15:log-level=error'];
  const result = spawnSync(
    'ffmpeg',
    [
      ...FFMPEG_QUIET,
      ...testPatternInputs(`${options.width}x${options.height}`),
      '-t',
      seconds,
      ...video,
      ...TEST_PIXELS_AND_AUDIO,
      '-f',
      'mpegts',
      '-y',
      file,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (result.status !== 0) throw new Error(`clip encode failed: ${result.stderr.toString()}`);
  return file;
}

export interface Pusher {
  readonly proc: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** ffmpeg as the SRT caller, looping a clip in real time. Its SRT latency option is in microseconds. */
export function pushSrt(options: {
  clip: string;
  port: number;
  streamId: string;
  passphrase?: string;
  keyLength?: number;
  loop?: boolean;
}): Pusher {
  // ffmpeg 5.1 does not percent-decode srt:// options, so the query is passed raw (no shell is involved).
  const params = [`streamid=${options.streamId}`, `latency=${120_000}`];
  if (options.passphrase)
    params.push(`passphrase=${options.passphrase}`, `pbkeylen=${options.keyLength ?? 16}`);
  const url = `srt://127.0.0.1:${options.port}?${params.join('&')}`;
  return spawnPusher([...clipCopyInput(options.clip, options.loop), '-f', 'mpegts', url]);
}

/** The clip in real time, looped unless `loop` is false, its streams copied (what every pusher sends). */
export function clipCopyInput(clip: string, loop?: boolean): string[] {
  return ['-re', ...(loop === false ? [] : ['-stream_loop', '-1']), '-i', clip, '-c', 'copy'];
}

/** ffmpeg with these arguments (after FFMPEG_QUIET) as a Pusher: its stderr kept, stopped gracefully. */
export function spawnPusher(args: readonly string[]): Pusher {
  const proc = spawn('ffmpeg', [...FFMPEG_QUIET, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stderr: () => err,
    exited,
    /** Graceful: ffmpeg closes the SRT socket, so the listener sees the close at once. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A free UDP port: the platform's own (bind to 0 and release). */
export { freeUdpPort } from '../../local/ports.js';
