import type { Rung } from '../../../../core/ladder.js';
import type { VideoCodec } from './ts-probe.js';

export type TranscodePath = 'gpu' | 'software' | 'passthrough';

export interface TranscodeProfile {
  readonly path: TranscodePath;
  readonly input: { readonly video: VideoCodec; readonly audio: 'aac' | null };
  /** One fMP4 output per rung, in order, on pipe:3, pipe:4, ... */
  readonly rungs: readonly Rung[];
  /**
   * Each output's part target (ms; fractional for whole frames, e.g. 4 frames at 30 fps): one for every rung, or per
   * rung (the stream's latency profile, decision D28). Each output's -frag_duration.
   */
  readonly partTargetMs: number | ((rung: Rung) => number);
  /** One for the whole ladder: keyframes and segments stay aligned across renditions. */
  readonly segmentTargetMs: number;
  /** Seconds between progress reports on stderr. */
  readonly statsPeriodS?: number;
  /** Thumbnail widths (decision D41): one JPEG output each, after the rungs' outputs, from the same decode. */
  readonly thumbnailWidths?: readonly number[];
}

/** First extra stdio descriptor used for rung outputs (0-2 are stdin, stdout, stderr). */
export const FIRST_OUTPUT_FD = 3;
const US_PER_MS = 1000;
const MS_PER_S = 1000;

export interface FfmpegInvocation {
  readonly args: readonly string[];
  /** rendition name -> stdio descriptor number carrying its fMP4 */
  readonly outputs: readonly { readonly rendition: string; readonly fd: number }[];
  /** thumbnail width -> stdio descriptor carrying its JPEGs (image2pipe), after the rungs' descriptors */
  readonly thumbnails: readonly { readonly width: number; readonly fd: number }[];
}

/** Seconds between thumbnails: well inside the 2 s refresh the issue asks for, at one small JPEG a second. */
export const THUMBNAIL_INTERVAL_S = 1;
/** mjpeg quality scale (2 best .. 31 worst): 5 keeps a 320 px picture near 10-15 KB. */
const THUMBNAIL_QUALITY = '5';

/**
 * One thumbnail output (decision D41): another output of the same input stream, so ffmpeg's one decoder feeds it
 * (no second decode). A picture a second on the output clock: input key frames can be many seconds apart (encoders
 * default to 2-10 s GOPs), every decoded frame is a whole picture, and passthrough has no decoder to skip with.
 * On the GPU path the frames are CUDA surfaces: scaled there (scale_cuda), then downloaded as nv12, so only the
 * 320 px picture crosses PCIe once a second and the CPU only JPEG-encodes it.
 */
export function thumbnailArgs(path: TranscodePath, width: number, fd: number): string[] {
  const every = `fps=1/${THUMBNAIL_INTERVAL_S}`;
  const filter =
    path === 'gpu'
      ? `${every},scale_cuda=${width}:-2:format=nv12,hwdownload,format=nv12,format=yuvj420p`
      : `${every},scale=${width}:-2,format=yuvj420p`;
  return [
    '-map',
    '0:v:0',
    '-an',
    '-vf',
    filter,
    '-c:v',
    'mjpeg',
    '-q:v',
    THUMBNAIL_QUALITY,
    '-f',
    'image2pipe',
    '-flush_packets',
    '1',
    `pipe:${fd}`,
  ];
}

/**
 * ffmpeg's -frag_duration for a part target: whole microseconds, rounded down. ffmpeg starts a new fragment at the
 * first frame whose offset from the fragment's start reaches it, so a target of exactly N frames (133.33 ms = 4
 * frames at 30 fps) must not be rounded up past the Nth frame's start (133334 us would make 5-frame parts).
 */
export function fragDurationUs(partTargetMs: number): number {
  return Math.floor(partTargetMs * US_PER_MS);
}

/** Frames per segment: the fixed GOP, so every segment starts with an IDR on every rung. */
export function gopFrames(fps: number, segmentTargetMs: number): number {
  return Math.max(1, Math.round((fps * segmentTargetMs) / MS_PER_S));
}

/**
 * How much earlier than its segment boundary a frame may be and still take the forced key frame: ffmpeg's `t` is
 * the frame's pts times a rounded time base, so frame 24 at 30 fps reads 0.7999999 < 0.8 and missed it; libx264's
 * GOP limit (-g 24) then put a key frame there anyway and the expression forced another on the next frame: a
 * 1-frame part and an extra part (and request) every few segments (seen with 800 ms segments; 500 ms happened to
 * round exactly). 1 ms is far below any frame duration, so only rounding is absorbed.
 */
const KEYFRAME_SLACK_S = 0.001;

/** Forces a key frame at every segment boundary on the output clock, the same expression on every rung. */
export function forceKeyFramesExpr(segmentTargetMs: number): string {
  return `expr:gte(t,n_forced*${segmentTargetMs / MS_PER_S}-${KEYFRAME_SLACK_S})`;
}

/**
 * libx264's key frames on the segment grid: a fixed GOP of one segment, no scene-cut key frames, and one forced at
 * every boundary (the transcode's rungs and the pause slate use the same grid, so their segments align).
 */
export function x264KeyframeArgs(fps: number, segmentTargetMs: number): string[] {
  const gop = String(gopFrames(fps, segmentTargetMs));
  return [
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    forceKeyFramesExpr(segmentTargetMs),
  ];
}

/** libx264 tuned for latency: zerolatency drops lookahead and frame threads, which would hold pictures back. */
export const X264_LOW_LATENCY: readonly string[] = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-tune',
  'zerolatency',
];

const kbps = (n: number) => `${n}k`;

/**
 * A rung's rate control, the same on NVENC and libx264: its bitrate, capped at its maximum over a one-second
 * buffer, and no B-frames (each would hold a picture back by a frame).
 */
function rateArgs(rung: Rung): string[] {
  return [
    '-b:v',
    kbps(rung.videoKbps),
    '-maxrate',
    kbps(rung.maxVideoKbps),
    '-bufsize',
    kbps(rung.maxVideoKbps),
    '-bf',
    '0',
  ];
}

function inputArgs(profile: TranscodeProfile): string[] {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-nostats',
    '-progress',
    'pipe:2',
    '-stats_period',
    String(profile.statsPeriodS ?? 1),
    '-fflags',
    '+genpts+discardcorrupt',
    '-probesize',
    '2000000',
    '-analyzeduration',
    '1000000',
    // No frame threads in the decoder: each holds a frame, so with N of them every picture leaves
    // N-1 frames late (bench/transcode-delay.ts: ~35 ms at 30 fps on 2 cores). Slice/WPP threads stay.
    '-thread_type',
    'slice',
  ];
  if (profile.path === 'gpu') args.push('-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda');
  // Passthrough decodes only for its thumbnails (D41): key frames alone, as stream copy never uses the decoder.
  if (profile.path === 'passthrough' && (profile.thumbnailWidths ?? []).length > 0) {
    args.push('-skip_frame:v', 'nokey');
  }
  args.push('-f', 'mpegts', '-i', 'pipe:0');
  return args;
}

function videoArgs(profile: TranscodeProfile, rung: Rung): string[] {
  if (profile.path === 'passthrough') return ['-c:v', 'copy'];
  const gop = String(gopFrames(rung.fps, profile.segmentTargetMs));
  const keyframes = ['-force_key_frames', forceKeyFramesExpr(profile.segmentTargetMs)];
  const size = rung.width && rung.height ? { w: rung.width, h: rung.height } : null;
  if (profile.path === 'gpu') {
    return [
      ...(size ? ['-vf', `scale_cuda=${size.w}:${size.h}`] : []),
      '-r',
      String(rung.fps),
      '-c:v',
      'h264_nvenc',
      '-preset',
      'p1',
      '-tune',
      'ull',
      '-zerolatency',
      '1',
      '-rc',
      'cbr',
      ...rateArgs(rung),
      '-rc-lookahead',
      '0',
      '-g',
      gop,
      '-forced-idr',
      '1',
      ...keyframes,
      '-profile:v',
      'high',
    ];
  }
  return softwareVideoArgs(rung, profile.segmentTargetMs);
}

/**
 * The libx264 low-latency encode of one rung (no B-frames, fixed GOP = one segment, IDR at every segment
 * boundary). Exported so the local direct feed and the latency benchmark's reference do the same encode.
 */
export function softwareVideoArgs(rung: Rung, segmentTargetMs: number): string[] {
  return [
    ...(rung.width && rung.height ? ['-vf', `scale=${rung.width}:${rung.height}`] : []),
    '-r',
    String(rung.fps),
    ...X264_LOW_LATENCY,
    ...rateArgs(rung),
    ...x264KeyframeArgs(rung.fps, segmentTargetMs),
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
  ];
}

function audioArgs(profile: TranscodeProfile, rung: Rung): string[] {
  if (profile.input.audio === null) return [];
  // Copying ADTS AAC from MPEG-TS into MP4 needs the ASC, else "Malformed AAC bitstream".
  if (profile.path === 'passthrough') return ['-c:a', 'copy', '-bsf:a', 'aac_adtstoasc'];
  return softwareAudioArgs(rung);
}

/**
 * Audio drift correction (decision D42): an encoder whose audio clock runs apart from its timestamps (a sound card
 * 0.1 % fast, stamped by the wall clock) sends more or fewer samples than its PTS cover; played as they come, the
 * sound drifts from the picture (6 ms a minute, 0.36 s an hour). swresample stretches or squeezes the samples to
 * the timestamps by at most 1000 samples a second (2 % at 48 kHz; 0.1 % needs 48), and pads or trims beyond 0.1 s.
 */
export const AUDIO_DRIFT_FILTER = 'aresample=async=1000';

/** The AAC encode of one rung (stereo, 48 kHz); exported with softwareVideoArgs for the same reason. */
export function softwareAudioArgs(rung: Rung): string[] {
  return ['-af', AUDIO_DRIFT_FILTER, '-c:a', 'aac', '-b:a', `${rung.audioKbps}k`, '-ac', '2', '-ar', '48000'];
}

/**
 * Fragmented CMAF with an empty moov. Passthrough also delays the moov to the first fragment: copied AAC gets its
 * AudioSpecificConfig from the aac_adtstoasc filter at the first packet, after an undelayed moov is written, and an
 * esds without it names the codec `mp4a.40` without the object type, which hls.js refuses.
 */
function movflags(profile: TranscodeProfile): string {
  const flags = '+frag_keyframe+empty_moov+default_base_moof+cmaf';
  return profile.path === 'passthrough' && profile.input.audio !== null ? `${flags}+delay_moov` : flags;
}

/** Pure: a typed profile to an argv array (no shell), one fragmented-MP4 output per rung on its own pipe. */
export function buildFfmpegArgs(profile: TranscodeProfile): FfmpegInvocation {
  const args = inputArgs(profile);
  const outputs: { rendition: string; fd: number }[] = [];
  const partTargetMs = (rung: Rung) =>
    typeof profile.partTargetMs === 'number' ? profile.partTargetMs : profile.partTargetMs(rung);
  profile.rungs.forEach((rung, i) => {
    const fd = FIRST_OUTPUT_FD + i;
    outputs.push({ rendition: rung.name, fd });
    args.push('-map', '0:v:0');
    if (profile.input.audio !== null) args.push('-map', '0:a:0');
    args.push(...videoArgs(profile, rung), ...audioArgs(profile, rung));
    args.push(
      '-f',
      'mp4',
      '-movflags',
      movflags(profile),
      '-frag_duration',
      String(fragDurationUs(partTargetMs(rung))),
      '-flush_packets',
      '1',
      `pipe:${fd}`,
    );
  });
  const thumbnails = (profile.thumbnailWidths ?? []).map((width, i) => ({
    width,
    fd: FIRST_OUTPUT_FD + profile.rungs.length + i,
  }));
  for (const { width, fd } of thumbnails) args.push(...thumbnailArgs(profile.path, width, fd));
  return { args, outputs, thumbnails };
}
