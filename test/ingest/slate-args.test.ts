import { describe, expect, it } from 'vitest';
import { buildSlateArgs, DEFAULT_SLATE, slateFor } from '../../containers/ingest/src/transcode/slate.js';

describe('slate generator arguments (decision D32)', () => {
  const base = { width: 1280, height: 720, fps: 30, audio: true, segmentTargetMs: 800 };

  it('is a real-time H.264 + AAC MPEG-TS on stdout, keyframes at the segment cadence, input size and rate', () => {
    expect(buildSlateArgs(base)).toEqual([
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'color=c=0x101820:s=1280x720:r=30',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
      '-map',
      '0:v:0',
      '-map',
      '1:a:0',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-b:v',
      '200k',
      '-bf',
      '0',
      '-g',
      '24',
      '-keyint_min',
      '24',
      '-sc_threshold',
      '0',
      '-force_key_frames',
      'expr:gte(t,n_forced*0.8-0.001)',
      '-pix_fmt',
      'yuv420p',
      '-profile:v',
      'high',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-ac',
      '2',
      '-ar',
      '48000',
      '-f',
      'mpegts',
      '-flush_packets',
      '1',
      'pipe:1',
    ]);
  });

  it('has no audio track when the input has none, so the renditions keep their tracks', () => {
    const args = buildSlateArgs({ ...base, audio: false });
    expect(args.join(' ')).not.toMatch(/anullsrc|1:a:0|-c:a/);
  });

  it('draws the text only with a font, keeping no character lavfi would unescape; sizes even and bounded', () => {
    const args = buildSlateArgs({
      ...base,
      width: 333,
      height: 99_999,
      text: "Back: 5'",
      fontFile: '/f.ttf',
    });
    expect(args[8]).toBe(
      'color=c=0x101820:s=334x4096:r=30,drawtext=fontfile=/f.ttf:text=Back 5:fontcolor=white:fontsize=341' +
        ':x=(w-text_w)/2:y=(h-text_h)/2',
    );
    expect(buildSlateArgs({ ...base, text: 'Paused' })[8]).toBe('color=c=0x101820:s=1280x720:r=30');
    expect(buildSlateArgs({ ...base, text: 'Paused', fontFile: "/fonts/it's.ttf" })[8]).toBe(
      'color=c=0x101820:s=1280x720:r=30',
    );
  });
});

describe('the slate standing in for an input', () => {
  it('takes the input’s size and rate and the encoder’s audio; defaults where unknown', () => {
    expect(slateFor({ width: 640, height: 360, fps: 25 }, false, 800)).toMatchObject({
      width: 640,
      height: 360,
      fps: 25,
      audio: false,
      segmentTargetMs: 800,
    });
    expect(slateFor(null, undefined, 800)).toMatchObject({ ...DEFAULT_SLATE, audio: true });
  });
});
