/**
 * The session API under simulated viewers' traffic, against a real redis-server on this machine (docs/scale.md
 * turns the figures into Lambda concurrency, Redis load and API Gateway rates for 125,000 viewers, decision D27):
 * 1. the allocator alone for a 25-tile wall (pure function, one core);
 * 2. the seed's audience in miniature: VIEWERS sessions over 25 live streams (80 % single-tile, 20 % six-tile walls
 *    in a 3x3), each viewer with its own address (CloudFront-Viewer-Address), then IN_FLIGHT calls at a time in the
 *    policy's mix (core/sessions/api-sizing.ts): heartbeats, with a focus change per HEARTBEATS_PER_CHANGE of them.
 *    Measured per operation: p50/p99 latency; over the heartbeat-only phase: heartbeats per second per core of the
 *    session process (its CPU time, as Lambda bills it), Redis commands per heartbeat (INFO commandstats delta,
 *    commands run inside Lua scripts included) and Redis CPU per heartbeat (INFO cpu delta);
 * 3. contention: 32 calls in flight on one session (compare-and-set retries, some 409s).
 * Run: npx tsx bench/sessions.ts [--viewers 2000] [--beats 20000]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Redis } from 'ioredis';
import { StreamRegistry } from '../core/adapters/streams/registry.js';
import { VIEWER_ADDRESS_HEADER } from '../core/contracts/viewer-address.js';
import type { HttpRequest } from '../core/http.js';
import { LADDERS } from '../core/ladder.js';
import { type AllocTile, allocate, toAllocRungs } from '../core/sessions/allocate.js';
import { CHANGES_PER_VIEWER_HOUR, viewerApiSizing } from '../core/sessions/api-sizing.js';
import { streamKeys } from '../core/streams/keys.js';
import { createSessionApp } from '../functions/session/app.js';
import { startRedis } from '../test/support/redis.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const VIEWERS = arg('viewers', 2000);
const BEATS = arg('beats', 20_000);
/** Calls in flight from the simulated viewers; 1 is how one Lambda instance serves (a call at a time). */
let IN_FLIGHT = 32;
const STREAMS = 25;
/** The policy's mix: heartbeats per focus change (0.0533 / 0.00333 per viewer-second = 16). */
const policy = viewerApiSizing(1).requestsPerViewerSecond;
const HEARTBEATS_PER_CHANGE = Math.round(policy.heartbeats / policy.changes);

console.log(
  `load average before the run: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

// 1. The allocator alone.
const wall: AllocTile[] = Array.from({ length: 25 }, (_, i) => ({
  streamId: `s${i}`,
  rungs: toAllocRungs(LADDERS.full),
  widthPx: 768,
  heightPx: 432,
}));
{
  let n = 0;
  const t0 = performance.now();
  let previous = allocate({ bandwidthKbps: 20_000, tiles: wall, focus: 3, nowMs: 0 });
  while (performance.now() - t0 < 1000) {
    previous = allocate({
      bandwidthKbps: 15_000 + (n % 10_000),
      tiles: wall,
      focus: 3,
      previous,
      nowMs: n * 10,
    });
    n++;
  }
  console.log(`allocator, 25 tiles: ${Math.round(n / ((performance.now() - t0) / 1000))} calls/s`);
}

// 2. Simulated viewers.
const redis = await startRedis();
const client = redis.client();
const registry = new StreamRegistry(client);
for (let i = 0; i < STREAMS; i++) {
  await registry.create({
    id: `s${i}`,
    name: `S${i}`,
    ladder: 'full',
    latency: 'low',
    encrypted: true,
    keyLength: 16,
  });
  await client.set(
    streamKeys.status(`s${i}`),
    JSON.stringify({ state: 'live', renditions: ['1080p', '720p', '360p'] }),
  );
}
const app = createSessionApp({
  redis: client,
  logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
  secret: 'bench-secret-0123456789abcdef0123456789',
});

interface Viewer {
  readonly address: string;
  readonly sessionId: string;
  readonly token: string;
  readonly tiles: number;
  readonly layoutTiles: number;
  focus: number;
}

const call = (method: string, path: string, address: string, body: unknown, token = ''): HttpRequest => ({
  method,
  path,
  query: {},
  headers: {
    'content-type': 'application/json',
    [VIEWER_ADDRESS_HEADER]: `${address}:443`,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(body),
  // Every call arrives from the same CloudFront edge, as on AWS.
  sourceIp: '130.176.0.1',
});

const latencies = new Map<string, number[]>();
async function timed(kind: string, request: HttpRequest, ok: number) {
  const t = performance.now();
  const response = await app.handle(request);
  const list = latencies.get(kind) ?? [];
  list.push(performance.now() - t);
  latencies.set(kind, list);
  if (response.status !== ok && response.status !== 409) {
    throw new Error(`${kind} answered ${response.status}: ${String(response.body)}`);
  }
  return response;
}

async function createViewer(i: number): Promise<Viewer> {
  const isWall = i % 5 === 0;
  const streams = Array.from({ length: isWall ? 6 : 1 }, (_, k) => `s${(i + k) % STREAMS}`);
  const layout = isWall ? '3x3' : '1x1';
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const created = await timed(
    'create',
    call('POST', '/api/sessions', address, { layout, tiles: streams, focus: 0 }),
    201,
  );
  const { sessionId, token } = JSON.parse(String(created.body)) as { sessionId: string; token: string };
  return { address, sessionId, token, tiles: streams.length, layoutTiles: isWall ? 9 : 1, focus: 0 };
}

function heartbeatOf(v: Viewer): HttpRequest {
  const tile = { widthPx: v.layoutTiles === 1 ? 1280 : 426, heightPx: v.layoutTiles === 1 ? 720 : 240 };
  const body = {
    bandwidthKbps: 8000 + (v.address.length % 7) * 1000,
    tiles: Array.from({ length: v.layoutTiles }, () => ({ ...tile, droppedFrames: 0, decodedFrames: 150 })),
  };
  return call('POST', `/api/sessions/${v.sessionId}/heartbeat`, v.address, body, v.token);
}

function focusChangeOf(v: Viewer): HttpRequest {
  v.focus = (v.focus + 1) % v.tiles;
  return call('PATCH', `/api/sessions/${v.sessionId}`, v.address, { focus: v.focus }, v.token);
}

async function redisInfo(): Promise<{ calls: number; cpuS: number; byCommand: Map<string, number> }> {
  const stats = await client.info('commandstats');
  const cpu = await client.info('cpu');
  const byCommand = new Map<string, number>();
  for (const m of stats.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) byCommand.set(m[1]!, Number(m[2]));
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  const calls = [...byCommand.values()].reduce((a, b) => a + b, 0);
  return { calls, cpuS: field('used_cpu_sys') + field('used_cpu_user'), byCommand };
}

/** `total` operations, IN_FLIGHT at a time, each from a random viewer; `pick` chooses the operation. */
async function drive(
  viewers: Viewer[],
  total: number,
  pick: (n: number, v: Viewer) => [string, HttpRequest],
) {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) {
        const n = next++;
        const viewer = viewers[Math.floor(Math.random() * viewers.length)] as Viewer;
        const [kind, request] = pick(n, viewer);
        await timed(kind, request, 200);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 };
}

const q = (values: readonly number[], p: number) =>
  ([...values].sort((a, b) => a - b)[Math.floor(p * (values.length - 1))] ?? 0).toFixed(2);

const viewers: Viewer[] = [];
const createStart = performance.now();
for (let i = 0; i < VIEWERS; i += IN_FLIGHT) {
  const batch = Array.from({ length: Math.min(IN_FLIGHT, VIEWERS - i) }, (_, k) => createViewer(i + k));
  viewers.push(...(await Promise.all(batch)));
}
console.log(
  `created ${VIEWERS} sessions (${VIEWERS / 5} six-tile walls) in ${((performance.now() - createStart) / 1000).toFixed(1)} s`,
);

// Heartbeats alone: the figures per heartbeat.
latencies.clear();
const before = await redisInfo();
const beats = await drive(viewers, BEATS, (_n, v) => ['heartbeat', heartbeatOf(v)]);
const after = await redisInfo();
const commands = after.calls - before.calls - 2; // the two INFO calls
const perBeat = [...after.byCommand]
  .map(([name, calls]) => [name, (calls - (before.byCommand.get(name) ?? 0)) / BEATS] as const)
  .filter(([name, calls]) => calls > 0.01 && name !== 'info')
  .map(([name, calls]) => `${name} ${calls.toFixed(2)}`)
  .join(', ');
const redisCpuMsPerBeat = ((after.cpuS - before.cpuS) * 1000) / BEATS;
const beatLatencies = latencies.get('heartbeat') ?? [];
console.log(
  `heartbeats, ${IN_FLIGHT} in flight over ${VIEWERS} viewers: ${Math.round(BEATS / beats.wallS)}/s wall, ` +
    `${Math.round(BEATS / beats.cpuS)}/s per core of the session process (${((beats.cpuS * 1000) / BEATS).toFixed(3)} ms CPU each), ` +
    `p50 ${q(beatLatencies, 0.5)} ms, p99 ${q(beatLatencies, 0.99)} ms`,
);
console.log(
  `redis per heartbeat: ${(commands / BEATS).toFixed(2)} commands (${perBeat}), ` +
    `${(redisCpuMsPerBeat * 1000).toFixed(1)} us CPU -> ${Math.round(1000 / redisCpuMsPerBeat)} heartbeats/s per Redis core`,
);

// One call at a time, as one Lambda instance serves them: latency without queueing behind the process's own calls.
latencies.clear();
IN_FLIGHT = 1;
const single = await drive(viewers, Math.min(BEATS, 3000), (_n, v) => ['heartbeat', heartbeatOf(v)]);
const singleLatencies = latencies.get('heartbeat') ?? [];
console.log(
  `heartbeats, 1 in flight: ${Math.round(singleLatencies.length / single.wallS)}/s, p50 ${q(singleLatencies, 0.5)} ms, p99 ${q(singleLatencies, 0.99)} ms`,
);
IN_FLIGHT = 32;

// The policy's mix: a focus change per HEARTBEATS_PER_CHANGE heartbeats.
latencies.clear();
const mixed = await drive(viewers, BEATS, (n, v) =>
  n % HEARTBEATS_PER_CHANGE === 0 ? ['focus', focusChangeOf(v)] : ['heartbeat', heartbeatOf(v)],
);
const line = (kind: string) => {
  const l = latencies.get(kind) ?? [];
  return `${kind} p50 ${q(l, 0.5)} ms p99 ${q(l, 0.99)} ms (${l.length})`;
};
console.log(
  `mix (${CHANGES_PER_VIEWER_HOUR} changes/h: 1 focus change per ${HEARTBEATS_PER_CHANGE} heartbeats): ` +
    `${Math.round(BEATS / mixed.wallS)} calls/s wall, ${Math.round(BEATS / mixed.cpuS)}/s per core; ${line('heartbeat')}; ${line('focus')}`,
);
const creates = latencies.get('create') ?? [];
if (creates.length > 0) console.log(line('create'));

// 3. Contention on one session.
async function contention(total: number) {
  const one = viewers[1] as Viewer;
  const request = heartbeatOf(one);
  let conflicts = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < total) if ((await app.handle(request)).status === 409) conflicts++;
    }),
  );
  console.log(
    `heartbeat, ${IN_FLIGHT} in flight on one session: ${Math.round(total / ((performance.now() - t0) / 1000))} req/s, ${conflicts} of ${total} 409`,
  );
}
await contention(2000);
await (client as Redis).quit();
await redis.stop();
