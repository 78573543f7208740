/**
 * Wake latency of blocking playlist requests: 1,000 waiters on one manifest app (one subscription), released by one
 * publish; time from the publish's EXEC returning to each response. Real redis-server.
 * Run: npx tsx bench/wake-latency.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { SyntheticRendition } from '../test/manifest/helpers.js';
import { startRedis } from '../test/support/redis.js';

const WAITERS = 1000;
const ROUNDS = 10;

const redis = await startRedis();
const dir = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
const storage = new LocalDiskStorage(dir);
const live = new LiveState(redis.client());
const app = createManifestApp({ live, waiters: new LiveWaiters(redis.client(), live), storage });
const rendition = new SyntheticRendition(live, storage, 'bench', '720p');
await rendition.init();
let last = await rendition.parts(7);

const wakes: number[] = [];
const whole: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const next = last.part === 4 ? { msn: last.msn + 1, part: 0 } : { msn: last.msn, part: last.part + 1 };
  let published = 0;
  const done: number[] = [];
  const requests = Array.from({ length: WAITERS }, () =>
    app
      .handle({
        method: 'GET',
        path: '/bench/720p/playlist.m3u8',
        query: { _HLS_msn: String(next.msn), _HLS_part: String(next.part) },
        headers: {},
      })
      .then((r) => {
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        done.push(performance.now());
      }),
  );
  await new Promise((r) => setTimeout(r, 300)); // all registered and subscribed
  published = performance.now();
  last = await rendition.part();
  await Promise.all(requests);
  for (const t of done) wakes.push(t - published);
  whole.push(Math.max(...done) - published);
}
wakes.sort((a, b) => a - b);
const pct = (p: number) =>
  wakes[Math.min(wakes.length - 1, Math.floor((p / 100) * wakes.length))]!.toFixed(2);
console.log(
  `wake latency, ${WAITERS} waiters x ${ROUNDS} publishes: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms ` +
    `(publish start to response; last of ${WAITERS} released after ${(whole.reduce((a, b) => a + b, 0) / whole.length).toFixed(1)} ms on average)`,
);
await redis.stop();
await rm(dir, { recursive: true, force: true });
