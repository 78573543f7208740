import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pesPts } from '../../containers/ingest/src/transcode/arrival-clock.js';
import {
  buildFfmpegArgs,
  forceKeyFramesExpr,
  gopFrames,
} from '../../containers/ingest/src/transcode/ffmpeg-args.js';
import { chooseEncodePath } from '../../containers/ingest/src/transcode/gpu.js';
import { type PipelineOptions, StreamPipeline } from '../../containers/ingest/src/transcode/pipeline.js';
import { ProgressReader, parseInputLine } from '../../containers/ingest/src/transcode/progress.js';
import { probeTransportStream } from '../../containers/ingest/src/transcode/ts-probe.js';
import { FragmentSplitter } from '../../core/cmaf/index.js';
import { LADDERS, TILE_RUNG } from '../../core/ladder.js';
import { framesMs } from '../../core/latency-profiles.js';
import { fakeFfmpeg } from './fake-ffmpeg.js';
import { makeClip, waitFor } from './media.js';
import { CollectingSinks, topLevelBoxes } from './sinks.js';

const NO_GPU = { available: false, detail: 'test machine' };
/** Targets for the argv builder's exact-array tests (the pipeline takes them from the stream's latency profile). */
const TARGETS = { partTargetMs: 100, segmentTargetMs: 500 };

let h264: Buffer;
let hevc: Buffer;
const pipelines: StreamPipeline[] = [];

/** A pipeline writing into collecting sinks (no GPU here), stopped after the test. */
function startPipeline(
  streamId: string,
  ladder: PipelineOptions['ladder'],
  gpuMode: PipelineOptions['gpuMode'],
  options: Partial<PipelineOptions> = {},
): { pipeline: StreamPipeline; sinks: CollectingSinks } {
  const sinks = new CollectingSinks();
  const pipeline = new StreamPipeline({
    streamId,
    ladder,
    gpuMode,
    gpu: NO_GPU,
    sinks,
    ...options,
  });
  pipelines.push(pipeline);
  return { pipeline, sinks };
}

beforeAll(() => {
  h264 = readFileSync(makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 }));
  hevc = readFileSync(makeClip({ codec: 'hevc', width: 320, height: 180, seconds: 2 }));
});
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.stop()));
});

function feed(pipeline: StreamPipeline, bytes: Buffer, chunk = 1316 * 7): void {
  for (let i = 0; i < bytes.length; i += chunk) pipeline.write(bytes.subarray(i, i + chunk));
}

describe('MPEG-TS codec detection (PAT/PMT)', () => {
  it('finds H.264 and HEVC video with ADTS AAC audio', () => {
    expect(probeTransportStream(h264)).toMatchObject({ kind: 'found', video: 'h264', audio: 'aac' });
    expect(probeTransportStream(hevc)).toMatchObject({ kind: 'found', video: 'hevc', audio: 'aac' });
  });

  it('asks for more bytes before the PMT and refuses what is not MPEG-TS', () => {
    expect(probeTransportStream(h264.subarray(0, 100))).toEqual({ kind: 'need-more' });
    expect(probeTransportStream(Buffer.alloc(4096, 0xab))).toMatchObject({ kind: 'not-ts' });
  });

  it('refuses other video codecs, naming the stream types found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirror-mpeg2-'));
    const file = join(dir, 'mpeg2.ts');
    const made = spawnSync('ffmpeg', [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x90:rate=25',
      '-t',
      '0.5',
      '-c:v',
      'mpeg2video',
      '-f',
      'mpegts',
      '-y',
      file,
    ]);
    expect(made.status).toBe(0);
    const result = probeTransportStream(readFileSync(file));
    expect(result).toMatchObject({ kind: 'unsupported' });
    if (result.kind === 'unsupported') expect(result.reason).toContain('0x02');
  });
});

describe('ffmpeg argument builder', () => {
  it('builds the exact GPU argv for the tile rung: NVDEC, scale_cuda, NVENC low latency, CBR, IDR per segment', () => {
    const { args, outputs } = buildFfmpegArgs({
      path: 'gpu',
      input: { video: 'hevc', audio: 'aac' },
      rungs: [TILE_RUNG],
      ...TARGETS,
    });
    expect(outputs).toEqual([{ rendition: '360p', fd: 3 }]);
    // biome-ignore format: one flag and its value per line
    expect(args).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'info', '-nostats', '-progress', 'pipe:2', '-stats_period', '1',
      '-fflags', '+genpts+discardcorrupt', '-probesize', '2000000', '-analyzeduration', '1000000',
      '-thread_type', 'slice',
      '-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda',
      '-f', 'mpegts', '-i', 'pipe:0',
      '-map', '0:v:0', '-map', '0:a:0',
      '-vf', 'scale_cuda=640:360', '-r', '30',
      '-c:v', 'h264_nvenc', '-preset', 'p1', '-tune', 'ull', '-zerolatency', '1',
      '-rc', 'cbr', '-b:v', '400k', '-maxrate', '450k', '-bufsize', '450k',
      '-bf', '0', '-rc-lookahead', '0', '-g', '15', '-forced-idr', '1',
      '-force_key_frames', 'expr:gte(t,n_forced*0.5-0.001)', '-profile:v', 'high',
      '-af', 'aresample=async=1000', '-c:a', 'aac', '-b:a', '64k', '-ac', '2', '-ar', '48000',
      '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof+cmaf', '-frag_duration', '100000',
      '-flush_packets', '1', 'pipe:3',
    ]);
  });

  it('gives every rung of the full ladder its own pipe and the same key frame expression', () => {
    const { args, outputs } = buildFfmpegArgs({
      path: 'gpu',
      input: { video: 'h264', audio: null },
      rungs: LADDERS.full,
      ...TARGETS,
    });
    expect(outputs.map((o) => `${o.rendition}@${o.fd}`)).toEqual(['1080p@3', '720p@4', '360p@5']);
    expect(args.filter((a) => a.startsWith('scale_cuda'))).toEqual([
      'scale_cuda=1920:1080',
      'scale_cuda=1280:720',
      'scale_cuda=640:360',
    ]);
    expect(args.filter((a) => a === forceKeyFramesExpr(500))).toHaveLength(3);
    expect(args).not.toContain('-c:a');
    expect(args.filter((a) => a.startsWith('pipe:'))).toEqual([
      'pipe:2',
      'pipe:0',
      'pipe:3',
      'pipe:4',
      'pipe:5',
    ]);
  });

  it('software: libx264 veryfast zerolatency, no B-frames, GOP = segment in frames, no scene cut', () => {
    const { args } = buildFfmpegArgs({
      path: 'software',
      input: { video: 'hevc', audio: 'aac' },
      rungs: [TILE_RUNG],
      ...TARGETS,
    });
    const flagValue = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args).not.toContain('-hwaccel');
    expect([
      flagValue('-c:v'),
      flagValue('-preset'),
      flagValue('-tune'),
      flagValue('-bf'),
      flagValue('-g'),
      flagValue('-sc_threshold'),
    ]).toEqual(['libx264', 'veryfast', 'zerolatency', '0', '15', '0']);
    expect(gopFrames(30, 500)).toBe(15);
    expect(gopFrames(25, 2000)).toBe(50);
  });

  it('passthrough copies video and converts ADTS audio for MP4', () => {
    const { args } = buildFfmpegArgs({
      path: 'passthrough',
      input: { video: 'h264', audio: 'aac' },
      rungs: LADDERS.passthrough,
      ...TARGETS,
    });
    expect(args.join(' ')).toContain('-c:v copy -c:a copy -bsf:a aac_adtstoasc');
  });

  it('never falls back silently: GPU required without a GPU is an error', () => {
    expect(chooseEncodePath('required', NO_GPU)).toMatchObject({ ok: false });
    expect(chooseEncodePath('auto', NO_GPU)).toEqual({ ok: true, path: 'software' });
    expect(chooseEncodePath('auto', { available: true, detail: 'T4' })).toEqual({ ok: true, path: 'gpu' });
    expect(chooseEncodePath('off', { available: true, detail: 'T4' })).toEqual({
      ok: true,
      path: 'software',
    });
  });

  it('reads the input description and progress blocks from stderr', () => {
    expect(
      parseInputLine(
        '  Stream #0:0[0x100]: Video: hevc (Main) ([36][0][0][0] / 0x0024), yuv420p(tv), 1920x1080, 30 fps, 30 tbr, 90k tbn',
      ),
    ).toEqual({ videoCodec: 'hevc', width: 1920, height: 1080, fps: 30 });
    const reader = new ProgressReader();
    expect(reader.line('frame=42')).toBeNull();
    expect(reader.line('fps=29.9')).toBeNull();
    expect(reader.line('progress=continue')).toMatchObject({ frame: 42, fps: 29.9 });
  });
});

describe('StreamPipeline with real ffmpeg', () => {
  it('transcodes HEVC with libx264 into fragmented MP4 with part-sized fragments', async () => {
    const { pipeline, sinks } = startPipeline('s1', 'tile', 'auto');
    feed(pipeline, hevc);
    await waitFor(
      '10 fragments',
      () => topLevelBoxes(sinks.bytes('s1/360p')).filter((b) => b === 'moof').length >= 10,
    );
    const boxes = topLevelBoxes(sinks.bytes('s1/360p'));
    expect(boxes.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(pipeline.status()).toMatchObject({
      state: 'running',
      path: 'software',
      input: { video: 'hevc', audio: 'aac', width: 320, height: 180 },
    });
    await pipeline.stop();
    // 2 s of input in the default profile's 133 ms parts (15), the last ones flushed by the drain.
    const moofs = topLevelBoxes(sinks.bytes('s1/360p')).filter((b) => b === 'moof').length;
    expect(moofs).toBeGreaterThanOrEqual(14);
    expect(sinks.renditions.get('s1/360p')?.ended).toBe(true);
  });

  it('passes H.264 through without re-encoding', async () => {
    const { pipeline, sinks } = startPipeline('s2', 'passthrough', 'required');
    feed(pipeline, h264);
    await waitFor('fragments', () => topLevelBoxes(sinks.bytes('s2/source')).includes('moof'));
    expect(pipeline.status()).toMatchObject({ path: 'passthrough', renditions: ['source'] });
    // The copied AAC's AudioSpecificConfig is in the init segment: players need the object type (mp4a.40.2) in
    // CODECS, and hls.js refuses a bare "mp4a.40" (manifestIncompatibleCodecsError).
    const init = new FragmentSplitter().push(sinks.bytes('s2/source')).find((o) => o.kind === 'init');
    expect(init?.kind === 'init' && init.info.codecs).toEqual([
      expect.stringMatching(/^avc1\./),
      'mp4a.40.2',
    ]);
  });

  it('restarts ffmpeg killed with SIGKILL, signalling a discontinuity, and continues', async () => {
    const { pipeline, sinks } = startPipeline('s3', 'passthrough', 'off');
    feed(pipeline, h264);
    await waitFor('first output', () => sinks.bytes('s3/source').length > 0);
    const firstPid = pipeline.pid;
    process.kill(firstPid!, 'SIGKILL');
    await waitFor('restarted', () => pipeline.status().restarts === 1);
    const before = sinks.bytes('s3/source').length;
    feed(pipeline, h264);
    // Nothing was queued when it died: the new ffmpeg starts with the next input, which anchors its clock.
    await waitFor('new ffmpeg', () => pipeline.pid !== undefined && pipeline.pid !== firstPid);
    await waitFor('output after restart', () => sinks.bytes('s3/source').length > before);
    const c = sinks.renditions.get('s3/source')!;
    expect(c.restarts).toBe(1);
    // After the restart, a new init segment opens the output.
    expect(topLevelBoxes(sinks.bytes('s3/source').subarray(c.restartAt[0]))[0]).toBe('ftyp');
  });

  it('anchors the run at when its media happened, looking through an encoder that holds its first 300 ms', async () => {
    const { pipeline, sinks } = startPipeline('s8', 'passthrough', 'off');
    // Chunks as SRT delivers them, each sent at its media time, except that the first 300 ms go out at once.
    const schedule: { bytes: Buffer; mediaMs: number }[] = [];
    let firstPts: number | undefined;
    let mediaMs = 0;
    for (let i = 0; i < h264.length; i += 1316) {
      const bytes = h264.subarray(i, i + 1316);
      for (let p = 0; p + 188 <= bytes.length; p += 188) {
        const pts = pesPts(bytes.subarray(p, p + 188));
        if (pts === undefined) continue;
        firstPts ??= pts;
        mediaMs = Math.max(mediaMs, (pts - firstPts) / 90);
      }
      schedule.push({ bytes, mediaMs });
    }
    const t0 = Date.now() + 50;
    const timers = schedule.map(({ bytes, mediaMs: at }) =>
      setTimeout(() => pipeline.write(bytes), t0 + Math.max(300, at) - Date.now()),
    );
    try {
      await waitFor('first output', () => sinks.bytes('s8/source').length > 0);
      const c = sinks.renditions.get('s8/source')!;
      // The first bytes arrived 300 ms after media time zero; the arrival clock finds zero itself.
      expect(c.anchors[0]! - t0).toBeGreaterThanOrEqual(290);
      expect(Math.abs(c.clockAtFirstOutput[0]! - t0)).toBeLessThan(60);
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  });

  it('anchors each ffmpeg run at the arrival of its first input bytes, not at its first output', async () => {
    const { pipeline, sinks } = startPipeline('s7', 'passthrough', 'off');
    const firstChunk = 1316 * 7;
    const beforeFirst = Date.now();
    pipeline.write(h264.subarray(0, firstChunk));
    const afterFirst = Date.now();
    await new Promise((r) => setTimeout(r, 400));
    feed(pipeline, h264.subarray(firstChunk));
    await waitFor('first output', () => sinks.bytes('s7/source').length > 0);
    const c = sinks.renditions.get('s7/source')!;
    expect(c.anchors[0]).toBeGreaterThanOrEqual(beforeFirst);
    expect(c.anchors[0]).toBeLessThanOrEqual(afterFirst);
    expect(c.firstOutputAt[0]! - c.anchors[0]!).toBeGreaterThanOrEqual(400);

    // A restart: the new run's anchor is when its first bytes arrived, after the crash.
    await waitFor('input consumed', () => pipeline.status().bufferedBytes === 0);
    const firstPid = pipeline.pid;
    process.kill(firstPid!, 'SIGKILL');
    await waitFor('restart pending', () => pipeline.status().restarts === 1);
    await new Promise((r) => setTimeout(r, 300));
    const beforeSecond = Date.now();
    pipeline.write(h264.subarray(0, firstChunk));
    const afterSecond = Date.now();
    await new Promise((r) => setTimeout(r, 400));
    feed(pipeline, h264.subarray(firstChunk));
    await waitFor('output after restart', () => c.firstOutputAt.length === 2);
    expect(c.restarts).toBe(1);
    expect(c.anchors[1]).toBeGreaterThanOrEqual(beforeSecond);
    expect(c.anchors[1]).toBeLessThanOrEqual(afterSecond);
    expect(c.firstOutputAt[1]! - c.anchors[1]!).toBeGreaterThanOrEqual(400);
  });

  it('kills a hung ffmpeg and fails the stream after repeated futile restarts', async () => {
    const fatal: string[] = [];
    const { pipeline } = startPipeline('s4', 'passthrough', 'off', {
      hangTimeoutMs: 300,
      ffmpegPath: fakeFfmpeg('exec cat > /dev/null'),
      onFatal: (r) => fatal.push(r),
    });
    const timer = setInterval(() => feed(pipeline, h264.subarray(0, 1316 * 20)), 50);
    try {
      await waitFor('failed', () => pipeline.status().state === 'error', 30_000);
    } finally {
      clearInterval(timer);
    }
    expect(pipeline.status().restarts).toBeGreaterThanOrEqual(5);
    expect(fatal[0]).toContain('without output');
  });

  it('bounds the buffer in front of a stalled ffmpeg and counts the drops', async () => {
    const { pipeline } = startPipeline('s5', 'passthrough', 'off', {
      maxBufferBytes: 1_000_000,
      hangTimeoutMs: 60_000,
      ffmpegPath: fakeFfmpeg('exec sleep 30'),
    });
    for (let i = 0; i < 20; i++) feed(pipeline, h264);
    const status = pipeline.status();
    expect(status.bufferedBytes).toBeLessThanOrEqual(1_000_000 + 200_000);
    expect(status.droppedBytes).toBeGreaterThan(h264.length * 12);
  });

  it('refuses an unsupported input and a required GPU that is absent, with a status', async () => {
    const garbage = startPipeline('s6', 'tile', 'auto').pipeline;
    const noGpu = startPipeline('s7', 'tile', 'required').pipeline;
    feed(garbage, Buffer.alloc(100_000, 0x11));
    feed(noGpu, hevc);
    expect(garbage.status()).toMatchObject({ state: 'error', error: expect.stringContaining('MPEG-TS') });
    expect(noGpu.status()).toMatchObject({
      state: 'error',
      error: expect.stringContaining('MIRROR_GPU=required'),
    });
  });
});

describe('full ladder in software', () => {
  it('writes 1080p, 720p and 360p, each on its own pipe with its own init segment and its profile’s parts', async () => {
    // ffmpeg starts only at end of input (the half clip is below its probe size); three software encodes
    // on a loaded 2-core machine can outlast stop()'s default 5 s drain (seen once in the full suite).
    const { pipeline, sinks } = startPipeline('full', 'full', 'off', {
      hangTimeoutMs: 30_000,
      drainTimeoutMs: 60_000,
      latencyProfile: 'wall',
    });
    feed(pipeline, h264.subarray(0, Math.floor(h264.length / 2)));
    await pipeline.stop();
    // The `wall` profile (decision D28): 4-frame parts on the full-size rungs, 12-frame parts on the tile rung, one
    // 800 ms segment target (24 frames) for all: ffmpeg's fragments and the packager's targets agree per rendition.
    const partFrames: Record<string, number> = { '1080p': 4, '720p': 4, '360p': 12 };
    for (const [name, frames] of Object.entries(partFrames)) {
      const boxes = topLevelBoxes(sinks.bytes(`full/${name}`));
      expect(boxes.slice(0, 2), name).toEqual(['ftyp', 'moov']);
      expect(sinks.renditions.get(`full/${name}`)?.targets).toEqual({
        partTargetMs: framesMs(frames),
        segmentTargetMs: 800,
      });
      const fragments = new FragmentSplitter()
        .push(sinks.bytes(`full/${name}`))
        .flatMap((o) => (o.kind === 'fragment' ? [Math.round((o.duration * 30) / o.timescale)] : []));
      expect(fragments.length, name).toBeGreaterThanOrEqual(2);
      // Every part is the target, the last one cut by the end of input: segments (key frames every 24 frames) hold
      // whole parts, with no 1-frame part from a key frame forced a frame late.
      expect(
        fragments.slice(0, -1).every((n) => n === frames),
        `${name}: ${fragments}`,
      ).toBe(true);
    }
    // Rungs differ in size: 1080p carries the most bytes, 360p the fewest.
    expect(sinks.bytes('full/1080p').length).toBeGreaterThan(sinks.bytes('full/360p').length);
  });
});
