/**
 * CPU of the ingest service itself (Node + libsrt threads: admission, reads, queueing, supervision, status) per
 * stream, beyond the ffmpeg processes it supervises. Passthrough streams of a 640x360 H.264 clip over SRT.
 * Run: npx tsx bench/ingest-cpu.ts [streams=4] [seconds=20]
 */
import { makeClip } from '../test/ingest/media.js';
import { procCpuSeconds, selfCpuSeconds, sleep, startBench } from './ingest-support.js';

const STREAMS = Number(process.argv[2] ?? 4);
const SECONDS = Number(process.argv[3] ?? 20);

const clip = makeClip({ codec: 'h264', width: 640, height: 360, seconds: 4 });
const bench = await startBench();
for (let i = 0; i < STREAMS; i++) bench.push(await bench.addStream(`cpu-${i}`, 'passthrough'), clip);
await sleep(5000);
const pids = () =>
  Array.from({ length: STREAMS }, (_, i) => bench.service.pipeline(`cpu-${i}`)?.pid).filter(
    (p): p is number => p !== undefined,
  );
const ffmpegBefore = pids().map(procCpuSeconds);
const selfBefore = selfCpuSeconds();
const bytesBefore = [...bench.sinks.bytes.values()].reduce((a, b) => a + b, 0);
const t0 = performance.now();
await sleep(SECONDS * 1000);
const wall = (performance.now() - t0) / 1000;
const self = selfCpuSeconds() - selfBefore;
const ffmpeg = pids()
  .map(procCpuSeconds)
  .reduce((sum, v, i) => sum + v - (ffmpegBefore[i] ?? 0), 0);
const bytes = [...bench.sinks.bytes.values()].reduce((a, b) => a + b, 0) - bytesBefore;
const inKbps = bench.service.status('cpu-0')?.input?.bitrateKbps;
await bench.stop();

const pct = (cpuS: number) => ((100 * cpuS) / wall).toFixed(2);
console.log(
  `ingest-cpu: ${STREAMS} passthrough streams (640x360 H.264 over SRT, ~${inKbps} kbps each), ${wall.toFixed(1)} s`,
);
console.log(
  `  service process (Node + libsrt): ${pct(self)} % of one core total, ${pct(self / STREAMS)} % per stream`,
);
console.log(
  `  ffmpeg (remux) processes:        ${pct(ffmpeg)} % total, ${pct(ffmpeg / STREAMS)} % per stream`,
);
console.log(`  fMP4 out: ${((bytes * 8) / wall / 1000 / STREAMS).toFixed(0)} kbps per stream`);
