// What the thumbnail outputs (decision D41) cost on the software path: the ingest's own ffmpeg argv for a ladder,
// with and without its two JPEG outputs (320 px and the tile rung's 640 px, one a second), on the same clip in the
// same process, runs alternating so both see the same machine. The clip is fed as fast as ffmpeg takes it; CPU time
// (user + system, from /usr/bin/time) over the clip's media seconds is the share of one core a live stream uses.
// Usage: node --import tsx bench/thumbnail-cost.ts [--ladder tile|full|passthrough] [--runs 3] [--seconds 20]
//        [--size 1920x1080]

import { spawn } from 'node:child_process';
import { createReadStream, openSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { THUMBNAIL_WIDTHS } from '../containers/ingest/src/thumbnails.js';
import {
  buildFfmpegArgs,
  FIRST_OUTPUT_FD,
  thumbnailArgs,
} from '../containers/ingest/src/transcode/ffmpeg-args.js';
import { type LadderPreset, ladderFor } from '../core/ladder.js';
import { availableFont, ensureClip } from '../local/encoders/clip.js';
import { ROOT } from '../local/root.js';

const { values } = parseArgs({
  options: {
    ladder: { type: 'string', default: 'tile' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    size: { type: 'string', default: '1920x1080' },
  },
});
const ladder = values.ladder as LadderPreset;
const seconds = Number(values.seconds);
const [width, height] = (values.size ?? '').split('x').map(Number) as [number, number];

/** CPU seconds (user + system) of one ffmpeg run of `args` over the clip on stdin, outputs to /dev/null. */
async function cpuSeconds(args: readonly string[], clip: string, outputs: number): Promise<number> {
  const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', 'ffmpeg', ...args], {
    // stdin, stdout, stderr, then each output descriptor to /dev/null ('ignore' leaves fds above 2 closed).
    stdio: ['pipe', 'ignore', 'pipe', ...Array.from({ length: outputs }, () => DEV_NULL)],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // ffmpeg may close stdin first when it fails: its stderr says why, below.
  child.stdin?.on('error', () => {});
  createReadStream(clip).pipe(child.stdin!);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  if (code !== 0 || !m) throw new Error(`ffmpeg failed (${code}): ${stderr.slice(-800)}`);
  return Number(m[1]) + Number(m[2]);
}

const DEV_NULL = openSync('/dev/null', 'w');
const pct = (share: number) => `${(share * 100).toFixed(2)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const clip = await ensureClip(join(ROOT, '.mirror', 'bench-clips'), {
    label: 'bench',
    toneHz: 440,
    width,
    height,
    fps: 30,
    seconds,
    keyframeSeconds: 1,
    codec: ladder === 'passthrough' ? 'h264' : 'hevc',
    ...(availableFont() ? { fontFile: availableFont()! } : {}),
  });
  const profile = {
    path: ladder === 'passthrough' ? 'passthrough' : 'software',
    input: { video: ladder === 'passthrough' ? 'h264' : 'hevc', audio: 'aac' },
    rungs: ladderFor(ladder),
    partTargetMs: 100,
    segmentTargetMs: 1000,
    statsPeriodS: 5,
  } as const;
  const without = buildFfmpegArgs(profile);
  const withThumbs = buildFfmpegArgs({ ...profile, thumbnailWidths: THUMBNAIL_WIDTHS });
  // The same pair without the rungs' encodes: the decode alone, and the decode with the thumbnail outputs, so the
  // thumbnails' own cost stands out of the encode's run-to-run noise.
  const input = without.args.slice(0, without.args.indexOf('-i') + 2);
  const decodeOnly = [...input, '-map', '0:v:0', '-f', 'null', '-'];
  const decodeThumbs = [
    ...decodeOnly,
    ...THUMBNAIL_WIDTHS.flatMap((w, i) => thumbnailArgs(profile.path, w, FIRST_OUTPUT_FD + i)),
  ];
  const runs = {
    without: [] as number[],
    with: [] as number[],
    decode: [] as number[],
    thumbs: [] as number[],
  };
  for (let i = 0; i < Number(values.runs); i++) {
    runs.without.push(await cpuSeconds(without.args, clip, without.outputs.length));
    runs.with.push(await cpuSeconds(withThumbs.args, clip, withThumbs.outputs.length + 2));
    runs.decode.push(await cpuSeconds(decodeOnly, clip, 0));
    runs.thumbs.push(await cpuSeconds(decodeThumbs, clip, 2));
  }
  const d = median(runs.decode) / seconds;
  const t = median(runs.thumbs) / seconds;
  const a = median(runs.without) / seconds;
  const b = median(runs.with) / seconds;
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(
    `ladder ${ladder}, ${width}x${height}@30, ${seconds} s clip, ${values.runs} runs each (median)`,
  );
  console.log(`  ingest argv:             ${pct(a)} of a core (runs ${list(runs.without)} s)`);
  console.log(`  ingest argv + 2 JPEGs/s: ${pct(b)} (runs ${list(runs.with)} s)`);
  console.log(`  difference:              ${pct(b - a)}`);
  console.log(`  decode alone:            ${pct(d)} (runs ${list(runs.decode)} s)`);
  console.log(`  decode + 2 JPEGs/s:      ${pct(t)} (runs ${list(runs.thumbs)} s)`);
  console.log(`  thumbnails alone:        ${pct(t - d)} of a core per stream`);
}

await main();
