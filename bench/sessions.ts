/**
 * Session function figures against a real redis-server on this machine:
 * - allocator calls per second for a 25-tile wall (pure function, one core);
 * - heartbeats per second and their latency (p50/p99) through createSessionApp, each a rate-limit check, a
 *   session read, the allocator and the compare-and-set write with the viewer-count update: sequential; 32 in
 *   flight on 32 sessions (many viewers); 32 in flight on one session (contention: retries, some 409s).
 * Run: npx tsx bench/sessions.ts
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { StreamRegistry } from '../core/adapters/streams/registry.js';
import { LADDERS } from '../core/ladder.js';
import { type AllocTile, allocate, toAllocRungs } from '../core/sessions/allocate.js';
import { createSessionApp } from '../functions/session/app.js';
import { startRedis } from '../test/support/redis.js';

const tiles: AllocTile[] = Array.from({ length: 25 }, (_, i) => ({
  streamId: `s${i}`,
  rungs: toAllocRungs(LADDERS.full),
  widthPx: 768,
  heightPx: 432,
}));
let n = 0;
const t0 = performance.now();
let previous = allocate({ bandwidthKbps: 20_000, tiles, focus: 3, nowMs: 0 });
while (performance.now() - t0 < 1000) {
  previous = allocate({ bandwidthKbps: 15_000 + (n % 10_000), tiles, focus: 3, previous, nowMs: n * 10 });
  n++;
}
console.log(`allocator, 25 tiles: ${Math.round(n / ((performance.now() - t0) / 1000))} calls/s`);

const redis = await startRedis();
const client = redis.client();
const registry = new StreamRegistry(client);
for (let i = 0; i < 25; i++) {
  await registry.create({
    id: `s${i}`,
    name: `S${i}`,
    ladder: 'full',
    latency: 'low',
    encrypted: true,
    keyLength: 16,
  });
}
const app = createSessionApp({
  redis: client,
  logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
  secret: 'bench-secret-0123456789abcdef0123456789',
  rateLimit: { perSecond: 1e9, burst: 1e9 },
});
async function newSession() {
  const created = await app.handle({
    method: 'POST',
    path: '/api/sessions',
    query: {},
    headers: {},
    body: JSON.stringify({ layout: '5x5', tiles: tiles.map((t) => t.streamId), focus: 0 }),
    sourceIp: '10.0.0.1',
  });
  const { sessionId, token } = JSON.parse(created.body as string) as { sessionId: string; token: string };
  return {
    method: 'POST',
    path: `/api/sessions/${sessionId}/heartbeat`,
    query: {},
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({
      bandwidthKbps: 20_000,
      tiles: tiles.map(() => ({ widthPx: 768, heightPx: 432, droppedFrames: 0, decodedFrames: 150 })),
    }),
    sourceIp: '10.0.0.1',
  };
}

/** `concurrency` workers, worker i beating on session i mod sessions; 409 (conflict) is counted, not fatal. */
async function run(label: string, concurrency: number, sessions: number, total: number) {
  const beats = await Promise.all(Array.from({ length: sessions }, newSession));
  const latencies: number[] = [];
  let conflicts = 0;
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const beat = beats[worker % sessions] as (typeof beats)[number];
      while (next++ < total) {
        const t = performance.now();
        const r = await app.handle(beat);
        if (r.status === 409) conflicts++;
        else if (r.status !== 200) throw new Error(`heartbeat answered ${r.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(2);
  console.log(
    `heartbeat, 5x5, ${label}: ${Math.round(total / seconds)} req/s (${Math.round((total - conflicts) / seconds)} answered 200, ${conflicts} of ${total} 409), p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`,
  );
}
await run('1 in flight', 1, 1, 2000);
await run('32 in flight on 32 sessions', 32, 32, 5000);
await run('32 in flight on one session', 32, 1, 2000);
await redis.stop();
