/**
 * What a reconnecting encoder and a viewer see when ECS replaces the ingest task a stream publishes to:
 * `node --import tsx bench/task-replacement.ts [--ladder tile|passthrough] [--gop-s 2] [--dereg-s 2]`.
 *
 * A real redis-server, local-disk storage, two ingest processes (containers/ingest/src/main.ts, task A and task B)
 * on different SRT ports, a UDP relay in front that plays the NLB (flows stick to the task they started on; once A
 * is deregistered, new flows go to B), and ffmpeg in a reconnect loop as OBS does (`ffmpeg ...; sleep 1`). Task B is
 * up first, as in a rolling deploy; A is deregistered, then SIGTERMed after the deregistration delay. Printed: time
 * from SIGTERM to A closing the publisher, to B accepting it and to B's first part; the media gap in the playlist
 * (PROGRAM-DATE-TIME of the first part after the move minus the end of the last one before); whether any part was
 * skipped, reused, or advertised but missing from storage. About a minute.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { keyOf, parseMediaPath } from '../core/contracts/names.js';
import { LADDERS, type LadderPreset } from '../core/ladder.js';
import { streamKeys } from '../core/streams/keys.js';
import { createManifestApp, manifestDepsFromRedis } from '../functions/manifest/app.js';
import { freeUdpPort, waitFor } from '../test/ingest/media.js';
import { FFMPEG_QUIET, TEST_PIXELS_AND_AUDIO, testPatternInputs } from '../test/support/media.js';
import { freePort } from '../test/support/ports.js';
import { startRedis } from '../test/support/redis.js';

const { values: args } = parseArgs({
  options: {
    ladder: { type: 'string', default: 'tile' },
    'gop-s': { type: 'string', default: '2' },
    'dereg-s': { type: 'string', default: '2' },
    verbose: { type: 'boolean', default: false },
  },
});
const ladder = args.ladder as LadderPreset;
const rendition = LADDERS[ladder][0]!.name;
const STREAM = 'replace-cam';
const PLAYLIST = `/${STREAM}/${rendition}/playlist.m3u8`;
const KEY = 'replace-cam-key-0123456789';
/** The window a task gets after SIGTERM (MIRROR_DRAIN_S, the container's stop timeout). */
const DRAIN_S = 30;
const t0 = Date.now();
const at = (ms: number) => `${((ms - t0) / 1000).toFixed(2)} s`;

interface LogLine {
  readonly atMs: number;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** One ingest task as ECS runs it: the real entry point, its JSON log lines read as they come. */
function startTask(name: string, env: Record<string, string>) {
  const lines: LogLine[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'containers/ingest/src/main.ts'], {
    env: { ...process.env, ...env, MIRROR_TASK_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  proc.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const raw of parts) {
      if (!raw.startsWith('{')) continue;
      const fields = JSON.parse(raw) as Record<string, unknown>;
      lines.push({ atMs: Date.now(), message: String(fields.message), fields });
    }
  });
  proc.stderr.on('data', () => {});
  const exited = new Promise<{ atMs: number; code: number | null }>((resolve) =>
    proc.once('exit', (code) => resolve({ atMs: Date.now(), code })),
  );
  const find = (message: string, after = 0) => lines.find((l) => l.message === message && l.atMs >= after);
  return { name, proc, lines, exited, find };
}

/**
 * The NLB's part: a UDP flow (client address and port) is pinned to the task it first reached, for as long as it
 * sends; new flows go to the registered task. No connection termination: a deregistered task keeps its flows.
 */
function startRelay(port: number, target: number) {
  const front = createSocket('udp4');
  const flows = new Map<string, { sock: Socket; target: number; lastMs: number }>();
  let current = target;
  front.on('message', (msg, peer) => {
    const key = `${peer.address}:${peer.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const sock = createSocket('udp4');
      sock.on('message', (back) => front.send(back, peer.port, peer.address));
      flow = { sock, target: current, lastMs: 0 };
      flows.set(key, flow);
    }
    flow.lastMs = Date.now();
    flow.sock.send(msg, flow.target, '127.0.0.1');
  });
  const sweep = setInterval(() => {
    for (const [key, flow] of flows) {
      if (Date.now() - flow.lastMs < 10_000) continue;
      flow.sock.close();
      flows.delete(key);
    }
  }, 2000);
  front.bind(port, '127.0.0.1');
  return {
    register(next: number) {
      current = next;
    },
    flowsTo: (t: number) => [...flows.values()].filter((f) => f.target === t).length,
    close() {
      clearInterval(sweep);
      for (const f of flows.values()) f.sock.close();
      front.close();
    },
  };
}

/** ffmpeg pushing a clip in real time, started again one second after every exit (an encoder's reconnect loop). */
function encoderLoop(clip: string, url: string) {
  const runs: { startMs: number; exitMs?: number }[] = [];
  let proc: ChildProcess | null = null;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    const record: { startMs: number; exitMs?: number } = { startMs: Date.now() };
    runs.push(record);
    proc = spawn(
      'ffmpeg',
      [...FFMPEG_QUIET, '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'mpegts', url],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => {
      if (args.verbose) console.log(at(Date.now()), 'encoder:', d.toString().trim());
    });
    proc.once('exit', (code) => {
      if (args.verbose) console.log(at(Date.now()), 'encoder exit', code);
      record.exitMs = Date.now();
      setTimeout(run, 1000);
    });
  };
  run();
  return {
    runs,
    stop() {
      stopped = true;
      proc?.kill('SIGINT');
    },
  };
}

interface SeenPart {
  readonly uri: string;
  readonly pdtMs: number;
  readonly durationMs: number;
  readonly firstSeenMs: number;
}

/** Every part any poll of the media playlist listed, with its PROGRAM-DATE-TIME position. */
function readParts(text: string, seen: Map<string, SeenPart>, reused: Set<string>): void {
  let clock: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) clock = Date.parse(line.slice(25));
    else if (line.startsWith('#EXT-X-PART:') && clock !== undefined) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1] ?? '';
      const durationMs = Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0) * 1000;
      const known = seen.get(uri);
      if (known && Math.abs(known.pdtMs - clock) > 1) reused.add(uri);
      if (!known) seen.set(uri, { uri, pdtMs: clock, durationMs, firstSeenMs: Date.now() });
      clock += durationMs;
    } else if (line.startsWith('#EXTINF:') || (line !== '' && !line.startsWith('#'))) {
      // A whole segment line: its parts (if still listed) were counted above; the clock already stands after them.
    }
  }
}

function makeClip(gopS: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mirror-replace-')), 'clip.ts');
  const gop = String(Math.round(30 * gopS));
  const result = spawnSync('ffmpeg', [
    ...FFMPEG_QUIET,
    ...testPatternInputs('640x360'),
    '-t',
    String(Math.max(4, 2 * gopS)),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', gop, '-keyint_min', gop, '-bf', '0'],
    ...TEST_PIXELS_AND_AUDIO,
    ...['-f', 'mpegts', '-y', file],
  ]);
  if (result.status !== 0) throw new Error(`clip encode failed: ${result.stderr.toString()}`);
  return file;
}

type Task = ReturnType<typeof startTask>;

/** Redis, the stream, tasks A and B, the relay in front of A, the encoder loop and the playlist poller. */
async function setUp() {
  const redis = await startRedis();
  const client = redis.client();
  const mediaDir = mkdtempSync(join(tmpdir(), 'mirror-replace-media-'));
  const now = new Date().toISOString();
  const record = {
    id: STREAM,
    name: STREAM,
    ladder,
    latency: 'low',
    publishKey: KEY,
    passphrase: null,
    keyLength: 16,
  };
  await client.set(streamKeys.record(STREAM), JSON.stringify({ ...record, createdAt: now, updatedAt: now }));
  await client.zadd(streamKeys.index, Date.now(), STREAM);
  await client.set(streamKeys.byPublishKey(KEY), STREAM);
  const taskEnv = async () => ({
    MIRROR_REDIS_URL: redis.url,
    MIRROR_SRT_PORT: String(await freeUdpPort()),
    MIRROR_HEALTH_PORT: String(await freePort()),
    MIRROR_MEDIA_DIR: mediaDir,
    MIRROR_GPU: 'off',
    MIRROR_METRICS: 'off',
    MIRROR_DRAIN_S: String(DRAIN_S),
  });
  const portA = await taskEnv();
  const portB = await taskEnv();
  const a = startTask('task-a', portA);
  const b = startTask('task-b', portB);
  await waitFor(
    'both tasks up',
    () => a.find('ingest service started') && b.find('ingest service started'),
    30_000,
  );
  const relayPort = await freeUdpPort();
  const relay = startRelay(relayPort, Number(portA.MIRROR_SRT_PORT));
  const url = `srt://127.0.0.1:${relayPort}?streamid=#!::r=${STREAM},m=publish,s=${KEY}&latency=120000`;
  const encoder = encoderLoop(makeClip(Number(args['gop-s'])), url);
  const storage = new LocalDiskStorage(mediaDir);
  const app = createManifestApp(manifestDepsFromRedis(client, storage));
  const seen = new Map<string, SeenPart>();
  const reused = new Set<string>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const res = await app.handle({ method: 'GET', path: PLAYLIST, query: {}, headers: {} });
      if (res.status === 200) readParts(String(res.body), seen, reused);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const stopPolling = async () => {
    polling = false;
    await poller;
  };
  return {
    redis,
    a,
    b,
    relay,
    portB: Number(portB.MIRROR_SRT_PORT),
    encoder,
    storage,
    seen,
    reused,
    stopPolling,
  };
}

/** The deploy: B is up (maxHealthyPercent 200); A is deregistered, then SIGTERMed after the deregistration delay. */
async function replace(ctx: Awaited<ReturnType<typeof setUp>>) {
  const { a, b, seen } = ctx;
  await waitFor('parts published by A', () => seen.size >= 40, 40_000);
  await new Promise((r) => setTimeout(r, 3000));
  ctx.relay.register(ctx.portB);
  await new Promise((r) => setTimeout(r, Number(args['dereg-s']) * 1000));
  const sigtermMs = Date.now();
  a.proc.kill('SIGTERM');
  const closed = await waitFor(
    'A closes the publisher',
    () => a.find('SRT publisher disconnected', sigtermMs),
    DRAIN_S * 1000,
  );
  const accepted = await waitFor('B accepts the publisher', () =>
    b.find('SRT publisher connected', sigtermMs),
  );
  // B's parts: listed only after B accepted the publisher (A's last parts, flushed at its close, come before).
  const firstAfter = await waitFor(
    'B publishes',
    () =>
      [...seen.values()].filter((p) => p.firstSeenMs > accepted.atMs).sort((x, y) => x.pdtMs - y.pdtMs)[0],
  );
  const exitA = await a.exited;
  await new Promise((r) => setTimeout(r, 5000));
  await ctx.stopPolling();
  ctx.encoder.stop();
  return { sigtermMs, closed, accepted, firstAfter, exitA };
}

async function report(ctx: Awaited<ReturnType<typeof setUp>>, r: Awaited<ReturnType<typeof replace>>) {
  const parts = [...ctx.seen.values()].sort((x, y) => x.pdtMs - y.pdtMs);
  const { firstAfter, sigtermMs } = r;
  const lastBefore = parts.filter((p) => p.pdtMs < firstAfter.pdtMs).at(-1)!;
  const missing: string[] = [];
  for (const p of parts) {
    const path = new URL(p.uri, `http://edge${PLAYLIST}`).pathname;
    const media = parseMediaPath(path);
    if ((await ctx.storage.get(media ? keyOf(media) : path.slice(1))) === undefined) missing.push(p.uri);
  }
  const holes = parts.filter((p, i) => i > 0 && p !== firstAfter && p.pdtMs - end(parts[i - 1]!) > 50);
  const refusedByB = ctx.b.lines.filter((l) => l.atMs >= sigtermMs && l.message.includes('refused')).length;
  const since = (ms: number) => `+${((ms - sigtermMs) / 1000).toFixed(2)} s`;
  const row = (k: string, v: string) => console.log(`${k.padEnd(50)} ${v}`);
  console.log(`\ntask replacement: ladder ${ladder} (${rendition}), encoder GOP ${args['gop-s']} s\n`);
  row('SIGTERM to A', at(sigtermMs));
  row('A closes the publisher', `${since(r.closed.atMs)} (${String(r.closed.fields.reason)})`);
  row('B accepts the reconnecting encoder', since(r.accepted.atMs));
  row("B's first part listed in the playlist", since(firstAfter.firstSeenMs));
  row('A exits', `${since(r.exitA.atMs)} (code ${r.exitA.code})`);
  row('playlist without a new part (wall clock)', `${s(firstAfter.firstSeenMs - lastBefore.firstSeenMs)}`);
  row('media gap (PDT of first after - end of last before)', `${s(firstAfter.pdtMs - end(lastBefore))}`);
  row('last part before / first after', `${lastBefore.uri} / ${firstAfter.uri}`);
  row('parts listed', String(parts.length));
  row('other holes in the PDT timeline (> 50 ms)', String(holes.length));
  row('parts advertised but missing from storage', String(missing.length));
  row('part URIs listed with two different times', String(ctx.reused.size));
  row('B refusals after SIGTERM (lease still held)', String(refusedByB));
  if (args.verbose) {
    for (const p of parts.filter((x) => Math.abs(x.pdtMs - firstAfter.pdtMs) < 2000))
      console.log(p.uri, at(p.pdtMs), at(p.firstSeenMs));
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const end = (p: SeenPart) => p.pdtMs + p.durationMs;

function dumpLogs(tasks: readonly Task[], sinceMs: number): void {
  for (const t of tasks)
    for (const l of t.lines.filter((x) => x.atMs >= sinceMs))
      console.log(t.name, at(l.atMs), l.message, JSON.stringify(l.fields).slice(0, 300));
}

const ctx = await setUp();
try {
  const result = await replace(ctx);
  await report(ctx, result);
  if (args.verbose) dumpLogs([ctx.a, ctx.b], result.sigtermMs - 500);
} catch (error) {
  console.error(String(error));
  dumpLogs([ctx.a, ctx.b], 0);
  process.exitCode = 1;
} finally {
  ctx.encoder.stop();
  ctx.a.proc.kill('SIGKILL');
  // B has no publisher left: its drain ends at once.
  ctx.b.proc.kill('SIGTERM');
  await ctx.b.exited;
  ctx.relay.close();
  await ctx.redis.stop();
  // The manifest app's subscriber connection would keep retrying the stopped redis-server.
  process.exit();
}
