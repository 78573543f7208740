/**
 * Wake latency of blocking playlist requests (decision D30): 1,000 waiters held on the next part, released by one
 * publish; time from the publish (LiveState.publish called, the part's bytes already stored) to each response.
 * Rows, interleaved round by round so that they share the machine's load:
 * - `pub/sub floor`: the same publish's notification reaching a bare subscriber (one sample per publish): no wake-up
 *   can be faster;
 * - `shared (D30)`: the manifest app as it runs (identical requests share one flight);
 * - `unshared (before D30)`: the same app with sharing off (maxFlights 0): each request reads, waits and answers alone;
 * - `Lambda handler x1`: functions/manifest/handler.ts itself (module-scope clients, one subscription per instance,
 *   metrics observer) with one waiter, as one Lambda instance holds one request at a time.
 * The last column, `p99 - floor`, takes from each response the moment the bare subscriber got that publish's
 * notification: what the app adds (read, render, answers), without the Redis and scheduling delay that a loaded
 * machine puts in front of every row alike.
 * Each row first runs WARMUP_ROUNDS unmeasured publishes. Real redis-server. Run: npx tsx bench/wake-latency.ts [rounds]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { liveKeys } from '../core/live/index.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { functionUrlEvent, SyntheticRendition } from '../test/manifest/helpers.js';
import { startRedis } from '../test/support/redis.js';

const WAITERS = 1000;
const ROUNDS = Number(process.argv[2] ?? 20);
/** Publishes per row before measuring: the first ones run cold code (JIT) whatever the path. */
const WARMUP_ROUNDS = 2;
/** Time for every request of a round to read, register and subscribe before the publish. */
const SETTLE_MS = 300;

const redis = await startRedis();
const dir = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
const storage = new LocalDiskStorage(dir);
const live = new LiveState(redis.client());
/** When each stream's last publish started (the clock every row measures from). */
const publishedAt = new Map<string, number>();
const timedLive = Object.assign(Object.create(live) as LiveState, {
  publish: (streamId: string, ...rest: [string, never, never]) => {
    publishedAt.set(streamId, performance.now());
    return live.publish(streamId, ...rest);
  },
});

// The Lambda handler builds its own clients from its environment at import (cold start), as on AWS. EMF metrics
// are computed but not printed (1,000 JSON lines a round would drown the figures).
process.env.MIRROR_REDIS_URL = redis.url;
process.env.MIRROR_STORAGE = 'local';
process.env.MIRROR_MEDIA_DIR = dir;
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR'; // its Redis outage warning when the bench stops redis-server
const { handler } = await import('../functions/manifest/handler.js');

type Ask = (query: Record<string, string>) => Promise<number>;
const appAsk = (app: ReturnType<typeof createManifestApp>, stream: string): Ask => {
  return (query) =>
    app
      .handle({ method: 'GET', path: `/${stream}/720p/playlist.m3u8`, query, headers: {} })
      .then((r) => r.status);
};
const lambdaAsk =
  (stream: string): Ask =>
  (query) =>
    (
      handler(functionUrlEvent(`/${stream}/720p/playlist.m3u8`, query)) as Promise<{ statusCode: number }>
    ).then((r) => r.statusCode);

const newApp = (maxFlights?: number) =>
  createManifestApp({
    live,
    waiters: new LiveWaiters(redis.client(), live),
    storage,
    ...(maxFlights === undefined ? {} : { maxFlights }),
  });
const rows = [
  { name: 'shared (D30)', stream: 'shared', waiters: WAITERS, ask: appAsk(newApp(), 'shared') },
  { name: 'unshared (before D30)', stream: 'unshared', waiters: WAITERS, ask: appAsk(newApp(0), 'unshared') },
  { name: 'Lambda handler x1', stream: 'lambda-1', waiters: 1, ask: lambdaAsk('lambda-1') },
].map((row) => ({
  ...row,
  rendition: new SyntheticRendition(timedLive, storage, row.stream, '720p'),
  last: { msn: 0, part: 0 },
  wakes: [] as number[],
  overFloor: [] as number[],
}));
for (const row of rows) {
  await row.rendition.init();
  row.last = await row.rendition.parts(7);
}

// The floor: a bare subscriber on every row's channel, timing the notification of each publish.
const floor: number[] = [];
let measuring = false;
const notifiedAt = new Map<string, number>();
const bare = redis.client();
bare.on('message', (channel: string) => {
  const stream = channel.slice(liveKeys.notify('').length);
  const started = publishedAt.get(stream);
  notifiedAt.set(stream, performance.now());
  if (started !== undefined && measuring) floor.push(performance.now() - started);
});
await bare.subscribe(...rows.map((row) => liveKeys.notify(row.stream)));

for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
  measuring = round >= 0;
  for (const row of rows) {
    const { msn, part } = row.last;
    const next = part === 4 ? { msn: msn + 1, part: 0 } : { msn, part: part + 1 };
    const query = { _HLS_msn: String(next.msn), _HLS_part: String(next.part) };
    const done: number[] = [];
    const requests = Array.from({ length: row.waiters }, () =>
      row.ask(query).then((status) => {
        if (status !== 200) throw new Error(`${row.name}: status ${status}`);
        done.push(performance.now());
      }),
    );
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    row.last = await row.rendition.part();
    await Promise.all(requests);
    if (!measuring) continue;
    const started = publishedAt.get(row.stream)!;
    const notified = notifiedAt.get(row.stream)!;
    for (const t of done) {
      row.wakes.push(t - started);
      row.overFloor.push(t - notified);
    }
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2).padStart(7);
const sorted = (samples: number[]) => [...samples].sort((a, b) => a - b);
const line = (name: string, samples: number[], overFloor: number[] | undefined, what: string) => {
  const s = sorted(samples);
  const figures = [50, 95, 99, 100].map((p) => pct(s, p)).join(' ');
  const over = overFloor === undefined ? '       ' : pct(sorted(overFloor), 99);
  console.log(`${name.padEnd(24)} ${figures} ${over.padStart(13)}   ${what}`);
};
console.log(
  `wake latency, ms from the publish to each response (${ROUNDS} publishes per row, real redis-server)\n` +
    `${''.padEnd(24)}     p50     p95     p99     max  p99 - floor`,
);
line('pub/sub floor', floor, undefined, `${floor.length} notifications to a bare subscriber`);
for (const row of rows)
  line(row.name, row.wakes, row.overFloor, `${row.waiters} waiters x ${ROUNDS} publishes`);
bare.disconnect();
await redis.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0); // the handler's module-scope clients stay connected, as on Lambda
