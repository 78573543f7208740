/**
 * Splitter + segmenter CPU per Mbps: encodes 10 s of 1280x720 test source once (ffmpeg, libx264, 100 ms fragments),
 * then splits and segments it repeatedly in 64 KiB chunks, as a pipe delivers it.
 * Run: npx tsx bench/splitter.ts
 */
import { spawn } from 'node:child_process';
import { FragmentSplitter } from '../core/cmaf/index.js';
import { Segmenter } from '../core/hls/index.js';
import { testSourceArgs } from '../test/support/media.js';

const SECONDS = 10;
const CHUNK = 64 * 1024;

async function encode(): Promise<Uint8Array> {
  const args = testSourceArgs({ seconds: SECONDS, size: '1280x720' });
  // A higher bitrate than the test default, like a 720p rung.
  args.splice(args.indexOf('-pix_fmt'), 0, '-b:v', '3000k');
  return new Promise((resolve, reject) => {
    const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => chunks.push(d));
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 ? resolve(new Uint8Array(Buffer.concat(chunks))) : reject(new Error(`ffmpeg ${code}`)),
    );
  });
}

const source = await encode();
const mbps = (source.byteLength * 8) / SECONDS / 1e6;

function once(): number {
  const splitter = new FragmentSplitter();
  const segmenter = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: 'bench0000001' });
  let parts = 0;
  for (let i = 0; i < source.byteLength; i += CHUNK) {
    for (const out of splitter.push(source.subarray(i, Math.min(source.byteLength, i + CHUNK)))) {
      if (out.kind !== 'fragment') continue;
      segmenter.addPart({ ...out, bytes: out.bytes.byteLength, initVersion: 1 }, Date.now());
      segmenter.timeline(); // the packager snapshots the timeline for every publish
      parts++;
    }
  }
  splitter.end();
  return parts;
}

for (let i = 0; i < 5; i++) once();
const runs = 50;
const started = process.cpuUsage();
let parts = 0;
for (let i = 0; i < runs; i++) parts += once();
const cpu = process.cpuUsage(started);
const cpuS = (cpu.user + cpu.system) / 1e6;
const mediaS = runs * SECONDS;
const coreFraction = cpuS / mediaS;
console.log(
  `splitter+segmenter: ${(source.byteLength / 1e6).toFixed(2)} MB, ${mbps.toFixed(2)} Mbps, ${parts / runs} parts per ${SECONDS} s; ` +
    `${((cpuS / parts) * 1e6).toFixed(1)} µs CPU per part; ${(coreFraction * 100).toFixed(3)}% of a core for this stream = ` +
    `${((coreFraction / mbps) * 100).toFixed(4)}% of a core per Mbps (${((cpuS / runs / ((source.byteLength * 8) / 1e6)) * 1e6).toFixed(1)} µs CPU per Mbit)`,
);
