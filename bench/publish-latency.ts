/**
 * Time from a fragment's last byte arriving from ffmpeg's pipe to its part being published (bytes stored, live state
 * updated, notification sent), with real Redis: parts written to local-disk storage, to S3 over its wire protocol
 * (s3rver) as before decision D33, and to the part store in Redis with segments on s3rver (D33, as deployed).
 * ffmpeg runs in real time (-re), 100 ms fragments.
 * Run: npx tsx bench/publish-latency.ts [seconds=10]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveState } from '../core/adapters/live/live-state.js';
import { RedisPartStore } from '../core/adapters/live/part-store.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { S3Storage } from '../core/adapters/storage/s3.js';
import { Packager, type PartStore } from '../core/packager/index.js';
import type { MediaStorage } from '../core/storage/index.js';
import { testSourceArgs } from '../test/support/media.js';
import { startRedis } from '../test/support/redis.js';
import { startS3 } from '../test/support/s3.js';

const SECONDS = Number(process.argv[2] ?? 10);

async function measure(
  label: string,
  storage: MediaStorage,
  live: LiveState,
  parts?: PartStore,
): Promise<void> {
  const delays: number[] = [];
  const packager = new Packager({
    storage,
    live,
    ...(parts === undefined ? {} : { parts }),
    partTargetMs: 100,
    segmentTargetMs: 500,
    onPublish: (e) => delays.push(Date.now() - e.arrivedAtMs),
  });
  const sink = packager.open(`bench-${label}`, '360p');
  const proc = spawn('ffmpeg', testSourceArgs({ realtime: true, seconds: SECONDS, size: '640x360' }), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  proc.stdout.on('data', (chunk: Buffer) => sink.write(chunk));
  await new Promise((resolve) => proc.once('close', resolve));
  await sink.end();
  delays.sort((a, b) => a - b);
  const pct = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))];
  console.log(
    `${label.padEnd(14)} fragment written -> part published: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms (${delays.length} parts)`,
  );
}

const redis = await startRedis();
const dir = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
const s3 = await startS3();
try {
  const live = new LiveState(redis.client());
  await measure('local-disk', new LocalDiskStorage(dir), live);
  await measure('s3rver', new S3Storage(s3.client(), s3.bucket), live);
  await measure(
    'redis+s3rver',
    new S3Storage(s3.client(), s3.bucket),
    live,
    new RedisPartStore(redis.client()),
  );
} finally {
  await redis.stop();
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
}
