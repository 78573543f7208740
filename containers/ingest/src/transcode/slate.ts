import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../../../../core/logger.js';
import { x264KeyframeArgs } from './ffmpeg-args.js';

/** What the slate must look like to stand in for the input: the transcoder sees it as one more input run. */
export interface SlateProfile {
  /** The input's picture size: a passthrough rendition keeps its size (and its players' layout) while paused. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The input has audio: the slate has a silent track, so every run's renditions have the same tracks. */
  readonly audio: boolean;
  /** Keyframe cadence (the ladder's segment target), so a passthrough rendition cuts segments on time. */
  readonly segmentTargetMs: number;
  /** Burnt-in text; drawn only with a font file (the container may have none: the slate is then plain). */
  readonly text?: string;
  readonly fontFile?: string;
}

/** Slate size when the input never described its own (a stream paused before its first picture). */
export const DEFAULT_SLATE = { width: 1280, height: 720, fps: 30 } as const;
/** Fonts looked for in this order (Debian's fonts-dejavu-core); none found = no text. */
export const SLATE_FONTS: readonly string[] = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
];
/** Below this a decoder of some players refuses the picture; above it the slate costs more for nothing. */
const MIN_SIDE = 16;
const MAX_SIDE = 4096;
/** The slate is a still: a low bitrate cap keeps its parts tiny whatever the ladder. */
const SLATE_VIDEO_KBPS = 200;
/**
 * ultrafast: a still needs no search, and it halves the encode (720p30 measured at 15 % of a core against 25 % with
 * veryfast); zerolatency, as the transcoder's encode, holds no frame back.
 */
const SLATE_X264: readonly string[] = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'];

const even = (n: number) => Math.max(MIN_SIDE, Math.min(MAX_SIDE, 2 * Math.round(n / 2)));

/**
 * What drawtext is given: a lavfi graph is unescaped twice (graph, then option), so rather than escape, the text
 * keeps only characters neither level treats specially, and a font path with others draws no text at all.
 */
const SAFE_TEXT = /[^A-Za-z0-9 .!-]/g;
const SAFE_PATH = /^[\w/.-]+$/;

/**
 * Pure: the slate generator's argv. An H.264 + AAC MPEG-TS on stdout, in real time (`-re` on the lavfi sources),
 * with keyframes at the segment cadence: the stream's transcoder takes it exactly as it takes an encoder's feed,
 * so every ladder (passthrough included) packages it through the same path.
 */
export function buildSlateArgs(profile: SlateProfile): string[] {
  const width = even(profile.width);
  const height = even(profile.height);
  const fps = Math.max(1, Math.min(60, Math.round(profile.fps)));
  let video = `color=c=0x101820:s=${width}x${height}:r=${fps}`;
  const text = profile.text?.replace(SAFE_TEXT, '');
  if (text && profile.fontFile && SAFE_PATH.test(profile.fontFile)) {
    const size = Math.max(8, Math.round(height / 12));
    video +=
      `,drawtext=fontfile=${profile.fontFile}:text=${text}` +
      `:fontcolor=white:fontsize=${size}:x=(w-text_w)/2:y=(h-text_h)/2`;
  }
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', video];
  if (profile.audio) args.push('-re', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo');
  args.push('-map', '0:v:0');
  if (profile.audio) args.push('-map', '1:a:0');
  args.push(
    ...SLATE_X264,
    '-b:v',
    `${SLATE_VIDEO_KBPS}k`,
    '-bf',
    '0',
    ...x264KeyframeArgs(fps, profile.segmentTargetMs),
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
  );
  if (profile.audio) args.push('-c:a', 'aac', '-b:a', '64k', '-ac', '2', '-ar', '48000');
  args.push('-f', 'mpegts', '-flush_packets', '1', 'pipe:1');
  return args;
}

/**
 * The slate standing in for an input described as `input` (ffmpeg's description of its last run): its size and
 * frame rate, DEFAULT_SLATE where unknown; audio as the encoder's last probe found (unknown: most encoders send it).
 */
export function slateFor(
  input: { readonly width?: number; readonly height?: number; readonly fps?: number } | null,
  encoderAudio: boolean | undefined,
  segmentTargetMs: number,
): SlateProfile {
  return {
    width: input?.width ?? DEFAULT_SLATE.width,
    height: input?.height ?? DEFAULT_SLATE.height,
    fps: input?.fps ?? DEFAULT_SLATE.fps,
    audio: encoderAudio ?? true,
    segmentTargetMs,
    text: 'Paused',
    fontFile: findSlateFont(),
  };
}

/** The first slate font present on this machine, if any. */
export function findSlateFont(candidates: readonly string[] = SLATE_FONTS): string | undefined {
  return candidates.find((f) => existsSync(f));
}

export interface SlateSourceOptions {
  readonly streamId: string;
  readonly ffmpegPath?: string;
  readonly log: Logger;
  /** MPEG-TS bytes of the slate, as they come (real time). */
  readonly onData: (chunk: Buffer) => void;
  /**
   * The generator died while wanted (told after a delay, so a broken ffmpeg cannot spin): the pipeline starts a new
   * run with a new generator, since a new generator's timestamps start over and must not follow the old ones' run.
   */
  readonly onLost: () => void;
}

/** Between a generator's death and onLost. */
export const SLATE_RESPAWN_DELAY_MS = 1000;

/**
 * The slate generator of one paused stream: one ffmpeg, killed at stop(); its output goes to the pipeline in place
 * of the encoder's, which is dropped meanwhile.
 */
export class SlateSource {
  private proc: ChildProcess | null = null;
  private wanted: SlateProfile | null = null;
  private respawn: NodeJS.Timeout | null = null;

  constructor(private readonly options: SlateSourceOptions) {}

  get running(): boolean {
    return this.wanted !== null;
  }

  start(profile: SlateProfile): void {
    this.stop();
    this.wanted = profile;
    this.spawn();
  }

  /** Kills the generator at once: what it has not written is a still nobody needs. */
  stop(): void {
    this.wanted = null;
    if (this.respawn) clearTimeout(this.respawn);
    this.respawn = null;
    const proc = this.proc;
    this.proc = null;
    proc?.kill('SIGKILL');
  }

  private spawn(): void {
    const profile = this.wanted;
    if (!profile) return;
    const proc = spawn(this.options.ffmpegPath ?? 'ffmpeg', buildSlateArgs(profile), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (this.proc === proc) this.options.onData(chunk);
    });
    proc.on('error', () => {});
    proc.once('exit', (code, signal) => {
      if (this.proc !== proc) return;
      this.proc = null;
      this.options.log.warn('slate generator exited', {
        streamId: this.options.streamId,
        code,
        signal,
        stderr: stderr.trim(),
      });
      this.respawn = setTimeout(() => {
        this.respawn = null;
        if (this.wanted) this.options.onLost();
      }, SLATE_RESPAWN_DELAY_MS);
    });
  }
}
