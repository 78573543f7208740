/**
 * How many passthrough streams this machine ingests at once: adds streams in steps and checks each keeps real time
 * (fMP4 out at the input rate, no SRT drops, no queue drops). A 640x360 H.264 clip looped over SRT per stream.
 * Run: npx tsx bench/ingest-passthrough-streams.ts [max=24] [step=4]
 */
import { loadavg } from 'node:os';
import { makeClip } from '../test/ingest/media.js';
import { selfCpuSeconds, sleep, startBench } from './ingest-support.js';

const MAX = Number(process.argv[2] ?? 24);
const STEP = Number(process.argv[3] ?? 4);
const WINDOW_S = 8;

const clip = makeClip({ codec: 'h264', width: 640, height: 360, seconds: 4 });
const bench = await startBench(MAX + 1);
let streams = 0;
console.log('streams  keeping-up  out-kbps/stream(min)  srt-dropped  queue-dropped  service-cpu%  load1');
while (streams < MAX) {
  for (let i = 0; i < STEP; i++, streams++)
    bench.push(await bench.addStream(`pt-${streams}`, 'passthrough'), clip);
  await sleep(4000);
  const ids = Array.from({ length: streams }, (_, i) => `pt-${i}`);
  const before = new Map(ids.map((id) => [id, bench.sinks.bytes.get(`${id}/source`) ?? 0]));
  const mediaBefore = new Map(ids.map((id) => [id, bench.service.pipeline(id)?.status().outTimeMs ?? 0]));
  const cpu0 = selfCpuSeconds();
  await sleep(WINDOW_S * 1000);
  const cpu = ((selfCpuSeconds() - cpu0) / WINDOW_S) * 100;
  const rates = ids.map(
    (id) => (((bench.sinks.bytes.get(`${id}/source`) ?? 0) - before.get(id)!) * 8) / WINDOW_S / 1000,
  );
  const statuses = ids.map((id) => bench.service.status(id));
  // Keeping up: output media time advanced by at least 95% of the wall-clock window, and the stream is live.
  const advance = ids.map(
    (id) =>
      ((bench.service.pipeline(id)?.status().outTimeMs ?? 0) - mediaBefore.get(id)!) / (WINDOW_S * 1000),
  );
  const keeping = advance.filter((a, i) => a >= 0.95 && statuses[i]?.state === 'live').length;
  const srtDropped = statuses.reduce(
    (n, s) => n + Number((s?.srt as { dropped?: number } | undefined)?.dropped ?? 0),
    0,
  );
  const queueDropped = statuses.reduce(
    (n, s) => n + Number((s?.transcode as { droppedBytes?: number } | undefined)?.droppedBytes ?? 0),
    0,
  );
  console.log(
    `${String(streams).padStart(7)}  ${String(keeping).padStart(10)}  ${Math.min(...rates)
      .toFixed(0)
      .padStart(
        20,
      )}  ${String(srtDropped).padStart(11)}  ${String(queueDropped).padStart(13)}  ${cpu.toFixed(1).padStart(12)}  ${loadavg()[0]!.toFixed(2)}`,
  );
  if (keeping < streams) break;
}
await bench.stop();
