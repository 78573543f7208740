import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JpegStream,
  THUMBNAIL_WIDTHS,
  type ThumbnailSink,
  ThumbnailWriter,
} from '../../containers/ingest/src/thumbnails.js';
import { buildFfmpegArgs } from '../../containers/ingest/src/transcode/ffmpeg-args.js';
import { StreamPipeline } from '../../containers/ingest/src/transcode/pipeline.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { behaviourFor, CACHE_POLICIES } from '../../core/contracts/delivery.js';
import { isThumbnailKey, THUMBNAIL_CACHE_CONTROL, thumbnailKey } from '../../core/contracts/names.js';
import { TILE_RUNG } from '../../core/ladder.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { Edge } from '../../local/edge/edge.js';
import { createMediaOrigin } from '../../local/edge/static-origin.js';
import { FFMPEG_QUIET, TEST_PIXELS_AND_AUDIO } from '../support/media.js';
import { waitFor } from './media.js';
import { CollectingSinks } from './sinks.js';

const dir = mkdtempSync(join(tmpdir(), 'mirror-thumbs-'));

/** 5 s of testsrc, whose burnt-in counter shows the seconds elapsed, 1280x720 H.264 in MPEG-TS. */
function clockClip(): Buffer {
  const file = join(dir, 'clock.ts');
  const made = spawnSync('ffmpeg', [
    ...FFMPEG_QUIET,
    ...['-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000'],
    ...['-t', '5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-bf', '0'],
    ...TEST_PIXELS_AND_AUDIO,
    ...['-f', 'mpegts', '-y', file],
  ]);
  if (made.status !== 0) throw new Error(made.stderr.toString());
  return readFileSync(file);
}

/** A JPEG's width and codec, read back by ffprobe. */
function probe(jpeg: Buffer): { codec_name: string; width: number; height: number } {
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.jpg`);
  writeFileSync(file, jpeg);
  const out = spawnSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height'],
    ...['-of', 'json', file],
  ]);
  return JSON.parse(out.stdout.toString()).streams[0];
}

const pipelines: StreamPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.stop()));
});

describe('thumbnail outputs of the transcode (D41)', () => {
  it('NVENC path: the JPEGs come from the same CUDA decode, scaled on the GPU and downloaded once a second', () => {
    const { args, outputs, thumbnails } = buildFfmpegArgs({
      path: 'gpu',
      input: { video: 'h264', audio: 'aac' },
      rungs: [TILE_RUNG],
      partTargetMs: 100,
      segmentTargetMs: 500,
      thumbnailWidths: THUMBNAIL_WIDTHS,
    });
    expect(outputs).toEqual([{ rendition: '360p', fd: 3 }]);
    expect(thumbnails).toEqual([
      { width: 320, fd: 4 },
      { width: 640, fd: 5 },
    ]);
    // One input, one decoder (NVDEC, frames left on the GPU): the thumbnails are outputs, not a second -i.
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.slice(args.indexOf('-hwaccel'), args.indexOf('-hwaccel') + 4)).toEqual([
      '-hwaccel',
      'cuda',
      '-hwaccel_output_format',
      'cuda',
    ]);
    // biome-ignore format: one flag and its value per line
    expect(args.slice(args.indexOf('pipe:3') + 1)).toEqual([
      '-map', '0:v:0', '-an',
      '-vf', 'fps=1/1,scale_cuda=320:-2:format=nv12,hwdownload,format=nv12,format=yuvj420p',
      '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', '-flush_packets', '1', 'pipe:4',
      '-map', '0:v:0', '-an',
      '-vf', 'fps=1/1,scale_cuda=640:-2:format=nv12,hwdownload,format=nv12,format=yuvj420p',
      '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', '-flush_packets', '1', 'pipe:5',
    ]);
  });

  it('software path scales on the CPU; passthrough decodes key frames only; none without widths', () => {
    const base = { input: { video: 'h264', audio: null }, partTargetMs: 100, segmentTargetMs: 500 } as const;
    const software = buildFfmpegArgs({
      ...base,
      path: 'software',
      rungs: [TILE_RUNG],
      thumbnailWidths: [320],
    });
    expect(software.args).toContain('fps=1/1,scale=320:-2,format=yuvj420p');
    expect(software.args).not.toContain('-skip_frame:v');
    const copy = buildFfmpegArgs({
      ...base,
      path: 'passthrough',
      rungs: [TILE_RUNG],
      thumbnailWidths: [320],
    });
    expect(copy.args.slice(copy.args.indexOf('-skip_frame:v'), copy.args.indexOf('-i'))).toEqual([
      '-skip_frame:v',
      'nokey',
      '-f',
      'mpegts',
    ]);
    const none = buildFfmpegArgs({ ...base, path: 'software', rungs: [TILE_RUNG] });
    expect(none.thumbnails).toEqual([]);
    expect(none.args).not.toContain('mjpeg');
  });

  it('real ffmpeg: JPEGs at 320 px and the tile width, that change as the burnt-in clock changes', async () => {
    const got: { width: number; jpeg: Buffer }[] = [];
    const sink: ThumbnailSink = { write: (width, jpeg) => got.push({ width, jpeg }) };
    const sinks = new CollectingSinks();
    const pipeline = new StreamPipeline({
      streamId: 'clock',
      ladder: 'tile',
      gpuMode: 'off',
      gpu: { available: false, detail: 'test' },
      sinks,
      thumbnails: sink,
    });
    pipelines.push(pipeline);
    const clip = clockClip();
    for (let i = 0; i < clip.length; i += 1316 * 7) pipeline.write(clip.subarray(i, i + 1316 * 7));
    await waitFor('thumbnails of 3 s', () => got.filter((g) => g.width === 320).length >= 4);
    expect(pipeline.status().thumbnailUrl).toBe('/clock/thumbnail-320.jpg');
    const small = got.filter((g) => g.width === 320).map((g) => g.jpeg);
    for (const { width, jpeg } of got.slice(0, 4)) {
      expect(probe(jpeg)).toMatchObject({ codec_name: 'mjpeg', width, height: (width * 9) / 16 });
    }
    expect(got.some((g) => g.width === 640)).toBe(true);
    // One a second on the output clock: pictures 2 s apart show different counter values.
    expect(small[0]!.equals(small[2]!)).toBe(false);
    expect(small[1]!.equals(small[3]!)).toBe(false);
  });
});

describe('passthrough', () => {
  it('real ffmpeg: thumbnails from key frames only, beside the copied video', async () => {
    const got: number[] = [];
    const sinks = new CollectingSinks();
    const pipeline = new StreamPipeline({
      streamId: 'copy',
      ladder: 'passthrough',
      gpuMode: 'off',
      gpu: { available: false, detail: 'test' },
      sinks,
      thumbnails: { write: (width, jpeg) => got.push(width, probe(jpeg).width) },
    });
    pipelines.push(pipeline);
    const clip = clockClip();
    for (let i = 0; i < clip.length; i += 1316 * 7) pipeline.write(clip.subarray(i, i + 1316 * 7));
    await waitFor('a thumbnail of each width', () => got.includes(640));
    expect(pipeline.status().path).toBe('passthrough');
    for (let i = 0; i < got.length; i += 2) expect(got[i + 1]).toBe(got[i]);
    await waitFor('copied video', () => sinks.bytes('copy/source').length > 0);
  });
});

describe('JpegStream', () => {
  it('cuts back-to-back JPEGs split across reads at any byte', () => {
    const a = spawnSync('ffmpeg', [
      ...FFMPEG_QUIET,
      ...['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=2', '-frames:v', '3', '-c:v', 'mjpeg'],
      ...['-f', 'image2pipe', 'pipe:1'],
    ]).stdout;
    const jpegs: Buffer[] = [];
    const stream = new JpegStream((j) => jpegs.push(j));
    for (let i = 0; i < a.length; i += 7) stream.push(a.subarray(i, i + 7));
    expect(jpegs).toHaveLength(3);
    expect(Buffer.concat(jpegs).equals(a)).toBe(true);
    for (const j of jpegs) expect(probe(j)).toMatchObject({ width: 320, height: 180 });
  });
});

describe('ThumbnailWriter', () => {
  it('keeps one put in flight per width and drops intermediate pictures behind a slow store', async () => {
    const puts: { key: string; bytes: string; cls: string }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: MediaStorage = {
      async put(key, bytes, cls) {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 50));
        puts.push({ key, bytes: Buffer.from(bytes).toString(), cls });
        inFlight -= 1;
      },
      get: async () => undefined,
    };
    const writer = new ThumbnailWriter(slow, 'cam');
    for (let i = 1; i <= 10; i++) writer.write(320, Buffer.from(`p${i}`));
    await writer.idle();
    // The first, then only the newest of the nine that came while it was stored.
    expect(puts).toEqual([
      { key: 'cam/thumbnail-320.jpg', bytes: 'p1', cls: 'thumbnail' },
      { key: 'cam/thumbnail-320.jpg', bytes: 'p10', cls: 'thumbnail' },
    ]);
    expect(maxInFlight).toBe(1);
    expect(writer.dropped).toBe(8);
  });

  it('stores a private stream’s pictures under a capability name only its status names (D36, D41 amended)', async () => {
    const keys: string[] = [];
    const store: MediaStorage = { put: async (key) => void keys.push(key), get: async () => undefined };
    let visible = true;
    const writer = new ThumbnailWriter(store, 'cam', undefined, () => visible);
    const other = new ThumbnailWriter(store, 'cam', undefined, () => false);
    writer.write(320, Buffer.from('public'));
    await writer.idle();
    expect(writer.path()).toBe('/cam/thumbnail-320.jpg');
    // Made private while live: the next pictures leave the public name for this pipeline's capability one.
    visible = false;
    writer.write(320, Buffer.from('private-1'));
    writer.write(640, Buffer.from('private-2'));
    await writer.idle();
    const capability = /^\/cam\/thumbnail-([A-Za-z0-9_-]{22})-320\.jpg$/.exec(writer.path())?.[1];
    expect(capability).toBeDefined();
    expect(keys).toEqual([
      'cam/thumbnail-320.jpg',
      `cam/thumbnail-${capability}-320.jpg`,
      `cam/thumbnail-${capability}-640.jpg`,
    ]);
    expect(writer.privatePictures).toBe(2);
    expect(keys.every(isThumbnailKey)).toBe(true);
    // Another pipeline (a reconnect, a restart) has another capability: a leaked URL dies with its pipeline.
    expect(other.path()).not.toBe(writer.path());
  });
});

describe('local edge', () => {
  it('serves a thumbnail with the short Cache-Control and a new picture once it expires', async () => {
    const media = join(dir, 'media');
    const storage = new LocalDiskStorage(media);
    const edge = new Edge({ manifest: createMediaOrigin(media), media: createMediaOrigin(media) });
    const get = () => edge.handle({ method: 'GET', path: '/cam/thumbnail-320.jpg', query: {}, headers: {} });
    await storage.put(thumbnailKey('cam', 320), Buffer.from('first'), 'thumbnail');
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.route).toBe('media');
    expect(first.headers['cache-control']).toBe(THUMBNAIL_CACHE_CONTROL);
    expect(first.headers['content-type']).toBe('image/jpeg');
    await storage.put(thumbnailKey('cam', 320), Buffer.from('second'), 'thumbnail');
    await new Promise((r) => setTimeout(r, 1100));
    const second = await get();
    expect(Buffer.from(second.body as Uint8Array).toString()).toBe('second');
  });
});

describe('delivery contract', () => {
  it('routes thumbnails to media storage under a policy that honours their 1 s max-age, without a playback check', () => {
    const behaviour = behaviourFor('/cam/thumbnail-320.jpg');
    expect(behaviour).toMatchObject({ origin: 'media', cachePolicy: 'media' });
    expect(behaviour.viewerRequest).toBeUndefined();
    // CloudFront clamps the origin's max-age into [min, max]: a minimum above 1 s would keep stale pictures.
    expect(CACHE_POLICIES[behaviour.cachePolicy].minTtlSeconds).toBe(0);
    expect(THUMBNAIL_CACHE_CONTROL).toBe('public, max-age=1');
  });
});
