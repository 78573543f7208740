/**
 * Software transcode speed through the ingest pipeline vs the bare ffmpeg command doing the same work, in the same
 * run: an HEVC 720p30 clip, decoded and encoded to the tile rung (libx264 veryfast/zerolatency, fMP4 parts) as fast
 * as it goes. The pipeline feeds ffmpeg through its bounded queue and reads the fMP4 pipes; the bare command reads
 * the file and writes to /dev/null with the identical argv.
 * Run: npx tsx bench/ingest-transcode-fps.ts [seconds=10] [ladder=tile]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildFfmpegArgs } from '../containers/ingest/src/transcode/ffmpeg-args.js';
import { StreamPipeline } from '../containers/ingest/src/transcode/pipeline.js';
import { LADDERS, LadderPreset } from '../core/ladder.js';
import { makeClip } from '../test/ingest/media.js';
import { CountingSinks } from './ingest-support.js';

const SECONDS = Number(process.argv[2] ?? 10);
const LADDER = LadderPreset.parse(process.argv[3] ?? 'tile');
const FPS = 30;
const frames = SECONDS * FPS;

const clipPath = makeClip({ codec: 'hevc', width: 1280, height: 720, seconds: SECONDS });
const clip = readFileSync(clipPath);

async function viaPipeline(): Promise<number> {
  const pipeline = new StreamPipeline({
    streamId: 'fps',
    ladder: LADDER,
    gpuMode: 'off',
    gpu: { available: false, detail: 'bench' },
    sinks: new CountingSinks(),
    hangTimeoutMs: 60_000,
  });
  const t0 = performance.now();
  for (let i = 0; i < clip.length; i += 1316 * 7) pipeline.write(clip.subarray(i, i + 1316 * 7));
  await pipeline.stop();
  return (performance.now() - t0) / 1000;
}

async function bare(): Promise<number> {
  const { args, outputs } = buildFfmpegArgs({
    path: 'software',
    input: { video: 'hevc', audio: 'aac' },
    rungs: LADDERS[LADDER === 'passthrough' ? 'tile' : LADDER],
    partTargetMs: 100,
    segmentTargetMs: 500,
  });
  // -y: the outputs are /dev/null, which "already exists".
  const argv = [
    '-y',
    ...args.map((a) =>
      a === 'pipe:0' ? clipPath : a.startsWith('pipe:') && a !== 'pipe:2' ? '/dev/null' : a,
    ),
  ];
  const t0 = performance.now();
  const proc = spawn('ffmpeg', argv, {
    stdio: ['ignore', 'ignore', 'ignore', ...outputs.map(() => 'ignore' as const)],
  });
  const code = await new Promise((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`bare ffmpeg exited with ${code}`);
  return (performance.now() - t0) / 1000;
}

const results: { name: string; s: number }[] = [];
for (let round = 0; round < 2; round++) {
  results.push({ name: 'bare ffmpeg', s: await bare() });
  results.push({ name: 'ingest pipeline', s: await viaPipeline() });
}
console.log(
  `ingest-transcode-fps: HEVC 1280x720@30 ${SECONDS} s (${frames} frames) -> ${LADDER} ladder, libx264, 2 rounds`,
);
for (const name of ['bare ffmpeg', 'ingest pipeline']) {
  const best = Math.min(...results.filter((r) => r.name === name).map((r) => r.s));
  console.log(
    `  ${name.padEnd(16)} ${(frames / best).toFixed(0).padStart(5)} fps  (${(SECONDS / best).toFixed(2)}x real time, best of 2)`,
  );
}
