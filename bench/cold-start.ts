/**
 * Lambda cold start (decision D26 and its amendment): each handler bundled exactly as AppFunction bundles it
 * (FUNCTION_BUNDLING), its size (bytes and gzip), its module initialisation, and initialisation plus one
 * representative first request (a playlist for manifest, a heartbeat for session, a stream list for control): fresh
 * `node` processes, each with the function's environment (its contract in core/contracts/env.ts, Lambda-shaped
 * credentials, the secrets read from Secrets Manager ARNs served locally, a real redis-server and live state).
 * Goals: 300 KB and 50 ms of initialisation per bundle. References in the same run: an empty module (this machine's
 * floor under its load), the SDK packages each function imported at init before the amendment (the previous
 * approach), and the S3 package as the manifest now loads it on its first part request.
 *
 * Run: npm run cold-start [-- --runs 10]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, MAX_BUNDLE_BYTES } from '../infra/constructs/app-function/bundling.js';
import { startRedis } from '../test/support/redis.js';
import {
  type Scenario,
  SDK_REFERENCES,
  scenarioOf,
  seed,
  startSecretsStandIn,
} from './cold-start-scenarios.js';
import { buildFunctionBundle, functionNames, largestInputs, REPO_ROOT } from './function-bundles.js';

const MAX_INIT_MS = 50;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;

const CHILD = `
const cpuMs = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
const cpu = process.cpuUsage();
const started = performance.now();
const module = await import(process.env.BENCH_BUNDLE_URL);
const timing = { ms: performance.now() - started, cpuMs: cpuMs(cpu) };
if (process.env.BENCH_EVENT) {
  const response = await module.handler(JSON.parse(process.env.BENCH_EVENT));
  timing.status = response.statusCode;
  timing.firstMs = performance.now() - started;
  timing.firstCpuMs = cpuMs(cpu);
}
process.stdout.write(JSON.stringify(timing) + '\\n');
process.exit(0);
`;

interface Timing {
  /** Wall-clock milliseconds of `await import()`: what Lambda's Init Duration counts. */
  readonly ms: number;
  /** CPU milliseconds of the same: less sensitive to other load on the machine. */
  readonly cpuMs: number;
  /** With a first request: its status, and wall and CPU ms from the start of the import to its answer. */
  readonly status?: number;
  readonly firstMs?: number;
  readonly firstCpuMs?: number;
}

/** Module initialisation of `file` in a fresh node process with `env` (and nothing else of this process's). */
export function timeImport(file: string, env: Record<string, string>): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { PATH: process.env.PATH ?? '', ...env, BENCH_BUNDLE_URL: pathToFileURL(file).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"ms"'));
      if (code === 0 && line) resolve(JSON.parse(line) as Timing);
      else reject(new Error(`importing ${file} exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly p50: number;
  readonly max: number;
  readonly cpuP50: number;
  /** Import and the first request, wall and CPU p50 (functions only). */
  readonly firstP50?: number;
  readonly firstCpuP50?: number;
  readonly goal: boolean;
}

async function measure(name: string, file: string, bytes: number, scenario?: Scenario): Promise<Row> {
  const timings: Timing[] = [];
  for (let i = 0; i < RUNS; i++) {
    const first = await scenario?.firstRequest();
    const env = { ...scenario?.env, ...(first ? { BENCH_EVENT: JSON.stringify(first.event) } : {}) };
    const timing = await timeImport(file, env);
    if (first && timing.status !== first.status) {
      throw new Error(`${name}: the first request answered ${timing.status}, not ${first.status}`);
    }
    timings.push(timing);
  }
  const p50 = percentile50(timings.map((t) => t.ms));
  const withFirst = scenario !== undefined;
  return {
    name,
    bytes,
    gzipBytes: gzipSync(readFileSync(file)).length,
    p50,
    max: Math.max(...timings.map((t) => t.ms)),
    cpuP50: percentile50(timings.map((t) => t.cpuMs)),
    firstP50: withFirst ? percentile50(timings.map((t) => t.firstMs!)) : undefined,
    firstCpuP50: withFirst ? percentile50(timings.map((t) => t.firstCpuMs!)) : undefined,
    goal: bytes <= MAX_BUNDLE_BYTES && p50 <= MAX_INIT_MS,
  };
}

function percentile50(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** A reference module from `source`, built as the handlers are (the SDK external). */
async function buildReference(
  dir: string,
  name: string,
  source: string,
): Promise<{ file: string; bytes: number }> {
  const slug = name.replace(/[^a-z0-9]+/gi, '-');
  const entry = join(dir, `${slug}.mjs`);
  writeFileSync(entry, source);
  const file = join(dir, slug, 'index.mjs');
  const built = await build({ ...esbuildOptions(entry, file), metafile: true });
  return { file, bytes: Object.entries(built.metafile.outputs).find(([p]) => p.endsWith('.mjs'))![1].bytes };
}

const fmt = (ms: number | undefined, width: number) =>
  (ms === undefined ? '-' : ms.toFixed(1)).padStart(width);

function print(rows: readonly Row[]): void {
  console.log(
    `\nruns per bundle: ${RUNS}; goals: <= ${MAX_BUNDLE_BYTES / 1000} KB, init p50 <= ${MAX_INIT_MS} ms (wall)`,
  );
  console.log(
    'module                              bytes   gzip  init p50  init max  init cpu  +1st p50  +1st cpu  goals',
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(32)} ${(r.bytes / 1000).toFixed(1).padStart(6)}K ${(r.gzipBytes / 1000).toFixed(1).padStart(5)}K ` +
        `${fmt(r.p50, 9)} ${fmt(r.max, 9)} ${fmt(r.cpuP50, 9)} ${fmt(r.firstP50, 9)} ${fmt(r.firstCpuP50, 9)}  ` +
        `${r.name.startsWith('ref') ? '-' : r.goal ? 'met' : 'MISSED'}`,
    );
  }
  console.log('(ms; "+1st": from the start of the import to the first request\'s answer)');
}

const cache = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'mirror-cold-start-'));
const redis = await startRedis();
const secrets = await startSecretsStandIn();
try {
  const client = redis.client();
  const rendition = await seed(client, join(dir, 'media'));
  const rows: Row[] = [];
  for (const name of functionNames()) {
    const bundle = await buildFunctionBundle(name, join(dir, name));
    console.log(`${name}: ${largestInputs(bundle)}`);
    const scenario = await scenarioOf(name, client, redis.url, secrets.url, rendition);
    rows.push(await measure(name, bundle.file, bundle.bytes, scenario));
  }
  for (const [name, source] of Object.entries(SDK_REFERENCES)) {
    const ref = await buildReference(dir, name, source);
    rows.push(await measure(name, ref.file, ref.bytes));
  }
  const empty = await buildReference(dir, 'ref: empty module', 'export {};\n');
  rows.push(await measure('ref: empty module', empty.file, empty.bytes));
  print(rows);
  process.exitCode = rows.every((r) => r.name.startsWith('ref') || r.goal) ? 0 : 1;
} finally {
  await redis.stop();
  secrets.server.close();
  rmSync(dir, { recursive: true, force: true });
}
