// How long the ingest's ffmpeg holds media: the synthetic HEVC clip is fed at real time into the
// ingest's own transcode argv (software path), and each fMP4 fragment's arrival is compared with the
// moment its last media could first have arrived (first input byte + fragment end on the media clock).
// Variants of the input options run one after another in the same process, so they share the machine.
// Usage: node --import tsx bench/transcode-delay.ts [--seconds 30] [--ladder tile|full]

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildFfmpegArgs,
  FIRST_OUTPUT_FD,
  type TranscodeProfile,
} from '../containers/ingest/src/transcode/ffmpeg-args.js';
import { FragmentSplitter } from '../core/cmaf/index.js';
import { type LadderPreset, ladderFor } from '../core/ladder.js';
import { DEFAULT_CLIP, realTimeClipInput } from '../local/encoders/args.js';
import { availableFont, ensureClip } from '../local/encoders/clip.js';
import { PART_TARGET_MS, ROOT, SEGMENT_TARGET_MS } from '../local/platform.js';
import { percentile } from './latency-harness.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '30' }, ladder: { type: 'string', default: 'tile' } },
});
const seconds = Number(values.seconds);
const ladder = values.ladder as LadderPreset;

interface Variant {
  readonly name: string;
  /** Replaces the profile's argv (the ingest's) with a variant of it. */
  readonly edit: (args: readonly string[]) => string[];
}

const VARIANTS: readonly Variant[] = [
  { name: 'ingest argv as built', edit: (args) => [...args] },
  {
    // Frame threads each hold a frame: with N of them the decoder answers N-1 frames late.
    name: 'decoder without frame threads (-flags low_delay)',
    edit: (args) => insertBeforeInput(args, ['-flags', 'low_delay']),
  },
  {
    // The same without low_delay's other meaning for H.264 (no reorder delay: wrong with B-frames).
    name: 'decoder slice threads only (-thread_type slice)',
    edit: (args) => insertBeforeInput(args, ['-thread_type', 'slice']),
  },
];

function insertBeforeInput(args: readonly string[], extra: readonly string[]): string[] {
  const at = args.indexOf('-i');
  const fmt = args[at - 2] === '-f' ? at - 2 : at;
  return [...args.slice(0, fmt), ...extra, ...args.slice(fmt)];
}

async function measure(clip: string, variant: Variant): Promise<number[]> {
  const profile: TranscodeProfile = {
    path: 'software',
    input: { video: 'hevc', audio: 'aac' },
    rungs: ladderFor(ladder),
    partTargetMs: PART_TARGET_MS,
    segmentTargetMs: SEGMENT_TARGET_MS,
  };
  const invocation = buildFfmpegArgs(profile);
  const args = variant.edit(invocation.args);
  const source = spawn(
    'ffmpeg',
    [...realTimeClipInput(clip), '-c', 'copy', '-f', 'mpegts', '-pes_payload_size', '0', 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stdio: ('pipe' | 'ignore')[] = ['pipe', 'ignore', 'ignore'];
  for (const _ of invocation.outputs) stdio.push('pipe');
  const transcoder = spawn('ffmpeg', args, { stdio });
  let firstInputAt: number | undefined;
  source.stdout?.on('data', (chunk: Buffer) => {
    firstInputAt ??= performance.now();
    transcoder.stdin?.write(chunk);
  });
  const delays: number[] = [];
  const splitter = new FragmentSplitter();
  let firstDecodeTime: number | undefined;
  const output = transcoder.stdio[FIRST_OUTPUT_FD] as NodeJS.ReadableStream;
  output.on('data', (chunk: Buffer) => {
    const now = performance.now();
    for (const item of splitter.push(chunk)) {
      if (item.kind !== 'fragment' || firstInputAt === undefined) continue;
      firstDecodeTime ??= item.baseDecodeTime;
      const endS = (item.baseDecodeTime - firstDecodeTime + item.duration) / item.timescale;
      delays.push(now - (firstInputAt + endS * 1000));
    }
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  source.kill('SIGKILL');
  transcoder.kill('SIGKILL');
  // The start-up (probing, the first GOP) is not steady state: drop the first 5 s.
  const skip = Math.round((5 * 1000) / PART_TARGET_MS);
  return delays.slice(skip);
}

const clip = await ensureClip(join(ROOT, '.mirror', 'bench-clips'), {
  ...DEFAULT_CLIP,
  label: 'cam-1',
  toneHz: 440,
  fontFile: availableFont(),
});
for (const variant of VARIANTS) {
  const delays = await measure(clip, variant);
  console.log(
    `${variant.name.padEnd(62)} fragments ${String(delays.length).padStart(4)}  delay p50 ${percentile(delays, 50)?.toFixed(0)} ms  p95 ${percentile(delays, 95)?.toFixed(0)} ms`,
  );
}
