/**
 * Pure ffmpeg argument builders for the synthetic encoders: a short HEVC test clip made once, then
 * pushed in a loop over SRT with `-c copy` (almost no CPU, so several streams fit on two cores).
 * Latency is measured from the PROGRAM-DATE-TIME the packager stamps at ingest, so a looped clip
 * measures it as well as a live encoder would.
 */

export interface ClipProfile {
  /** Burnt into the picture so a tile shows which stream it plays. */
  readonly label: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /**
   * Whole loop length. 16 s is a multiple of both a 30 fps frame (1/30 s) and an AAC frame at 48 kHz
   * (1024/48000 s), so video and audio end together and the loop does not drift.
   */
  readonly seconds: number;
  /** Keyframe interval: the ladder's GOP is 0.5 s, so the source offers a keyframe as often. */
  readonly keyframeSeconds: number;
  readonly toneHz: number;
  /** A TrueType font for drawtext; without one the clip has no text, only the test pattern. */
  readonly fontFile?: string;
  /**
   * HEVC by default (the transcoding ladders' usual input); H.264 for the `passthrough` ladder, which republishes
   * the input as is and only H.264 plays in Chromium. Absent means HEVC, so clips cached before it existed still match.
   */
  readonly codec?: 'hevc' | 'h264';
}

export const DEFAULT_CLIP: Omit<ClipProfile, 'label' | 'toneHz'> = {
  width: 640,
  height: 360,
  fps: 30,
  seconds: 16,
  keyframeSeconds: 0.5,
};

export const AUDIO_SAMPLE_RATE_HZ = 48_000;

/** drawtext needs ':' and '\'' escaped inside option values; labels are stream ids (slugs) anyway. */
function escapeDrawtext(text: string): string {
  return text.replace(/[\\':%]/g, (c) => `\\${c}`);
}

/** Video encoder options: a keyframe every `gop` frames and nowhere else, no B-frames, 800 kb/s. */
function videoCodecArgs(codec: ClipProfile['codec'], gop: number): string[] {
  const common = ['-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'];
  if (codec === 'h264') {
    return [
      '-c:v',
      'libx264',
      ...common,
      '-g',
      String(gop),
      '-keyint_min',
      String(gop),
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      '-b:v',
      '800k',
    ];
  }
  return [
    '-c:v',
    'libx265',
    ...common,
    '-x265-params',
    `keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=0:log-level=error`,
    '-b:v',
    '800k',
  ];
}

/** ffmpeg argv that encodes the clip: testsrc2 + label + clip clock, HEVC (libx265 ultrafast) or H.264, AAC sine. */
export function clipArgs(profile: ClipProfile, outFile: string): string[] {
  const gop = Math.round(profile.fps * profile.keyframeSeconds);
  const video = `testsrc2=size=${profile.width}x${profile.height}:rate=${profile.fps}`;
  const filters: string[] = [];
  if (profile.fontFile !== undefined) {
    const font = `fontfile=${profile.fontFile}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8`;
    const size = Math.round(profile.height / 9);
    filters.push(`drawtext=${font}:fontsize=${size}:x=24:y=24:text='${escapeDrawtext(profile.label)}'`);
    filters.push(`drawtext=${font}:fontsize=${Math.round(size * 0.8)}:x=24:y=h-th-24:text='%{pts\\:hms}'`);
  }
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    video,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${profile.toneHz}:sample_rate=${AUDIO_SAMPLE_RATE_HZ}`,
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    '-t',
    String(profile.seconds),
    ...videoCodecArgs(profile.codec, gop),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-ac',
    '2',
    // One PES per AAC frame: with the default (about 350 ms of audio per PES) audio sits in the file 350 ms after
    // the video it plays with, and a real-time push of it comes out in 350 ms bursts.
    '-pes_payload_size',
    '0',
    '-f',
    'mpegts',
    outFile,
  ];
}

/** ffmpeg's quiet input options reading the clip at its own pace, looped forever: a live source. */
export function realTimeClipInput(clipFile: string): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clipFile];
}

/**
 * ffmpeg argv that pushes the clip in real time, forever, over SRT as a caller. `-pes_payload_size 0` puts each AAC
 * frame (21 ms) in its own PES: the mpegts muxer's default (2930 bytes, about 350 ms of 64 kb/s audio) held audio
 * back and sent it in bursts, so the ingest could cut the 100 ms parts of each 350 ms only when the burst arrived.
 */
export function pushArgs(clipFile: string, srtUrl: string): string[] {
  return [...realTimeClipInput(clipFile), '-c', 'copy', '-pes_payload_size', '0', '-f', 'mpegts', srtUrl];
}
