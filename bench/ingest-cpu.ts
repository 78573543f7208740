/**
 * CPU of the ingest service itself (Node + libsrt threads: admission, reads, queueing, supervision, status) per
 * stream, beyond the ffmpeg processes it supervises: passthrough streams of a 640x360 H.264 clip over SRT, then the
 * same streams as MPEG-TS over RTP with SRTP (decision D45: decryption, authentication, reordering and statistics
 * in Node), one after the other in one run so that the two figures share a machine state.
 * Run: npx tsx bench/ingest-cpu.ts [streams=4] [seconds=20]
 */
import { makeClip } from '../test/ingest/media.js';
import { type Bench, procCpuSeconds, selfCpuSeconds, sleep, startBench } from './ingest-support.js';

const STREAMS = Number(process.argv[2] ?? 4);
const SECONDS = Number(process.argv[3] ?? 20);

interface Phase {
  readonly wall: number;
  readonly self: number;
  readonly ffmpeg: number;
  readonly bytes: number;
  readonly inKbps: number | undefined;
}

/** Measures the service's and its ffmpeg processes' CPU over SECONDS once `ids` are all flowing. */
async function measure(bench: Bench, ids: readonly string[]): Promise<Phase> {
  await sleep(5000);
  const pids = () =>
    ids.map((id) => bench.service.pipeline(id)?.pid).filter((p): p is number => p !== undefined);
  const total = () => [...bench.sinks.bytes.values()].reduce((a, b) => a + b, 0);
  const ffmpegBefore = pids().map(procCpuSeconds);
  const selfBefore = selfCpuSeconds();
  const bytesBefore = total();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const wall = (performance.now() - t0) / 1000;
  return {
    wall,
    self: selfCpuSeconds() - selfBefore,
    ffmpeg: pids()
      .map(procCpuSeconds)
      .reduce((sum, v, i) => sum + v - (ffmpegBefore[i] ?? 0), 0),
    bytes: total() - bytesBefore,
    inKbps: bench.service.status(ids[0]!)?.input?.bitrateKbps,
  };
}

const clip = makeClip({ codec: 'h264', width: 640, height: 360, seconds: 4 });
const bench = await startBench();
const srtIds = Array.from({ length: STREAMS }, (_, i) => `cpu-${i}`);
for (const id of srtIds) bench.push(await bench.addStream(id, 'passthrough'), clip);
const srt = await measure(bench, srtIds);
await bench.stopPushers();
const rtpIds = Array.from({ length: STREAMS }, (_, i) => `cpu-rtp-${i}`);
for (const id of rtpIds) bench.pushRtp(await bench.addRtpStream(id, 'passthrough'), clip);
const rtp = await measure(bench, rtpIds);
const rtpCounters = bench.service.rtp?.counters();
await bench.stop();

const pct = (cpuS: number, wall: number) => ((100 * cpuS) / wall).toFixed(2);
function print(label: string, p: Phase, engine: string): void {
  console.log(`  ${label} (~${p.inKbps} kbps each), ${p.wall.toFixed(1)} s`);
  console.log(
    `    service process (${engine}): ${pct(p.self, p.wall)} % of one core total, ${pct(p.self / STREAMS, p.wall)} % per stream`,
  );
  console.log(
    `    ffmpeg (remux) processes: ${pct(p.ffmpeg, p.wall)} % total, ${pct(p.ffmpeg / STREAMS, p.wall)} % per stream`,
  );
  console.log(`    fMP4 out: ${((p.bytes * 8) / p.wall / 1000 / STREAMS).toFixed(0)} kbps per stream`);
}
console.log(`ingest-cpu: ${STREAMS} passthrough streams of 640x360 H.264, SRT then RTP/SRTP, one run`);
print('SRT', srt, 'Node + libsrt');
print('RTP (MPEG-TS over SRTP)', rtp, 'Node: SRTP, reorder, RFC 3550 stats');
console.log(`  RTP packets dropped unauthenticated: ${rtpCounters?.unauthenticated ?? 0}`);
