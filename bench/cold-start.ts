/**
 * Lambda cold start (decision D26 and its amendment): each handler bundled exactly as AppFunction bundles it
 * (FUNCTION_BUNDLING), its size (bytes and gzip), its module initialisation, and initialisation plus one
 * representative first request (a playlist for manifest, a heartbeat for session, a stream list for control): fresh
 * `node` processes, each with the function's environment (its contract in core/contracts/env.ts, Lambda-shaped
 * credentials, the secrets read from Secrets Manager ARNs served locally, a real redis-server and live state).
 * Goals: 300 KB and 50 ms of initialisation per bundle. References in the same run: an empty module (this machine's
 * floor under its load), the SDK packages each function imported at init before the amendment (the previous
 * approach), the S3 package as the manifest now loads it on its first part request, each function on ioredis as it
 * was before D47, each function with --enable-source-maps and each with its secrets read over node:http (both as
 * before D47's amendment: what each costs), each with its secrets read one GetSecretValue at a time (before D48),
 * and each dependency alone
 * (cold-start-parts.ts). Runs are interleaved
 * (run i of every module, then run i + 1), so a change in the machine's load shifts every row alike.
 *
 * Run: npm run cold-start [-- --runs 10] [-- --profile] [-- --functions control,manifest,session] [-- --secrets-tls]
 * (--profile: where each function's init CPU goes, D34; --secrets-tls: the Secrets Manager stand-in over HTTPS, a
 * TLS handshake per connection as on AWS, D48)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, MAX_BUNDLE_BYTES } from '../infra/constructs/app-function/bundling.js';
import { startRedis } from '../test/support/redis.js';
import {
  BEFORE_D47,
  breakdown,
  PART_REFERENCES,
  SECRETS_ON_NODE_HTTP,
  SECRETS_ONE_BY_ONE,
} from './cold-start-parts.js';
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
const PROFILE = process.argv.includes('--profile');
const onlyArg = process.argv.indexOf('--functions');
/** `--functions control,manifest`: only these (default: every function with a scenario). */
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1]?.split(',') : undefined;
/** Profiled cold starts per function: the breakdown prints each cause's median over them. */
const PROFILE_RUNS = 5;
/**
 * What AppFunction sets on every function (app-function.ts): nothing since D47's amendment (no --enable-source-maps;
 * the logger maps stacks, core/adapters/stack-map.ts). References get the same, so the floor is comparable.
 */
const LAMBDA_NODE_OPTIONS = '';
/** The flag the functions ran with before D47's amendment, for the same-run reference rows. */
const SOURCE_MAPS_NODE_OPTIONS = '--enable-source-maps';

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

/**
 * Module initialisation of `file` in a fresh node process with `env` (and nothing else of this process's);
 * `nodeArgs` before the script (--cpu-prof).
 */
export function timeImport(
  file: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', CHILD], {
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

/** One module to time: a function bundle (with its scenario) or a reference. */
interface Target {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly scenario?: Scenario;
  /** Replaces the scenario's NODE_OPTIONS (the source-maps rows); references get LAMBDA_NODE_OPTIONS. */
  readonly nodeOptions?: string;
}

async function timeOnce(target: Target): Promise<Timing> {
  const { scenario } = target;
  const first = await scenario?.firstRequest();
  const env = {
    NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
    ...scenario?.env,
    ...(target.nodeOptions === undefined ? {} : { NODE_OPTIONS: target.nodeOptions }),
    ...(first ? { BENCH_EVENT: JSON.stringify(first.event) } : {}),
  };
  const timing = await timeImport(target.file, env);
  if (first && timing.status !== first.status) {
    throw new Error(`${target.name}: the first request answered ${timing.status}, not ${first.status}`);
  }
  return timing;
}

/** RUNS cold starts of every target, interleaved: run i of each target, then run i + 1. */
async function measureAll(targets: readonly Target[]): Promise<Row[]> {
  const timings = targets.map((): Timing[] => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [t, target] of targets.entries()) timings[t]!.push(await timeOnce(target));
  }
  return targets.map((target, t) => {
    const runs = timings[t]!;
    const p50 = percentile50(runs.map((r) => r.ms));
    const withFirst = target.scenario !== undefined;
    return {
      name: target.name,
      bytes: target.bytes,
      gzipBytes: gzipSync(readFileSync(target.file)).length,
      p50,
      max: Math.max(...runs.map((r) => r.ms)),
      cpuP50: percentile50(runs.map((r) => r.cpuMs)),
      firstP50: withFirst ? percentile50(runs.map((r) => r.firstMs!)) : undefined,
      firstCpuP50: withFirst ? percentile50(runs.map((r) => r.firstCpuMs!)) : undefined,
      goal: target.bytes <= MAX_BUNDLE_BYTES && p50 <= MAX_INIT_MS,
    };
  });
}

/**
 * PROFILE_RUNS profiled cold starts of a function (no first request): each cause's median share of the sampled
 * initialisation, and its median sampled ms. V8 samples by wall clock, so on a loaded machine the ms include time
 * the process waited for a core; the shares hold up better.
 */
async function profile(target: Target, dir: string): Promise<[string, number, number][]> {
  const byCause = new Map<string, { share: number[]; ms: number[] }>();
  for (let i = 0; i < PROFILE_RUNS; i++) {
    const out = join(dir, `${target.name}-${i}`);
    const env = { NODE_OPTIONS: LAMBDA_NODE_OPTIONS, ...target.scenario?.env };
    await timeImport(target.file, env, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', out]);
    const file = join(out, readdirSync(out).find((f) => f.endsWith('.cpuprofile'))!);
    const causes = breakdown(file, target.file);
    const sum = causes.reduce((total, [, ms]) => total + ms, 0);
    for (const [cause, ms] of causes) {
      const entry = byCause.get(cause) ?? { share: [], ms: [] };
      entry.share.push((100 * ms) / sum);
      entry.ms.push(ms);
      byCause.set(cause, entry);
    }
  }
  // A cause missing from a run took under 0.5 ms there.
  const median = (values: number[]) =>
    percentile50([...values, ...Array(PROFILE_RUNS - values.length).fill(0)]);
  return [...byCause]
    .map(([cause, { share, ms }]) => [cause, median(share), median(ms)] as [string, number, number])
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1]);
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
  // The floor: what a fresh node takes to import nothing, under this run's load.
  const floor = rows.find((r) => r.name === 'ref: empty module')!;
  console.log(
    `\nruns per bundle: ${RUNS}; goals: <= ${MAX_BUNDLE_BYTES / 1000} KB, init p50 <= ${MAX_INIT_MS} ms (wall)`,
  );
  console.log(
    'module                              bytes   gzip  init p50  init max  init cpu  cpu-floor  +1st p50  +1st cpu  goals',
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(32)} ${(r.bytes / 1000).toFixed(1).padStart(6)}K ${(r.gzipBytes / 1000).toFixed(1).padStart(5)}K ` +
        `${fmt(r.p50, 9)} ${fmt(r.max, 9)} ${fmt(r.cpuP50, 9)} ${fmt(r.cpuP50 - floor.cpuP50, 10)} ` +
        `${fmt(r.firstP50, 9)} ${fmt(r.firstCpuP50, 9)}  ${r.name.startsWith('ref') || r.name.startsWith('part') ? '-' : r.goal ? 'met' : 'MISSED'}`,
    );
  }
  console.log(
    '(ms; "cpu-floor": init CPU less the empty module\'s in the same run, what the module itself costs; "+1st": from' +
      " the start of the import to the first request's answer)",
  );
}

const cache = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'mirror-cold-start-'));
const redis = await startRedis();
const secrets = await startSecretsStandIn(process.argv.includes('--secrets-tls'));
try {
  const client = redis.client();
  const rendition = await seed(client, join(dir, 'media'));
  const functions: Target[] = [];
  for (const name of functionNames().filter((n) => ONLY === undefined || ONLY.includes(n))) {
    const bundle = await buildFunctionBundle(name, join(dir, name));
    console.log(`${name}: ${largestInputs(bundle)}`);
    const scenario = await scenarioOf(name, client, redis.url, secrets.url, rendition);
    Object.assign(scenario.env, secrets.env);
    functions.push({ name, file: bundle.file, bytes: bundle.bytes, scenario });
  }
  const references: Target[] = functions.map((f) => ({
    ...f,
    name: `ref: ${f.name}, source maps`,
    nodeOptions: SOURCE_MAPS_NODE_OPTIONS,
  }));
  for (const f of functions) {
    const before = await buildFunctionBundle(f.name, join(dir, `${f.name}-before-d47`), [BEFORE_D47]);
    references.push({ ...f, name: `ref: ${f.name} on ioredis`, file: before.file, bytes: before.bytes });
    const http = await buildFunctionBundle(f.name, join(dir, `${f.name}-node-http`), [SECRETS_ON_NODE_HTTP]);
    references.push({ ...f, name: `ref: ${f.name}, node:http`, file: http.file, bytes: http.bytes });
    const single = await buildFunctionBundle(f.name, join(dir, `${f.name}-one-by-one`), [SECRETS_ONE_BY_ONE]);
    references.push({
      ...f,
      name: `ref: ${f.name}, secrets one by one`,
      file: single.file,
      bytes: single.bytes,
    });
  }
  for (const [name, source] of Object.entries({ ...SDK_REFERENCES, ...PART_REFERENCES })) {
    references.push({ name, ...(await buildReference(dir, name, source)) });
  }
  references.push({
    name: 'ref: empty module',
    ...(await buildReference(dir, 'ref: empty module', 'export {};\n')),
  });
  const rows = await measureAll([...functions, ...references]);
  print(rows);
  if (PROFILE) {
    for (const target of functions) {
      const causes = await profile(target, join(dir, 'profiles'));
      console.log(
        `\n${target.name}: initialisation by cause, median of ${PROFILE_RUNS} profiled cold starts (share, sampled ms)`,
      );
      for (const [cause, share, ms] of causes) {
        console.log(`${share.toFixed(1).padStart(6)} %  ${ms.toFixed(1).padStart(6)}  ${cause}`);
      }
    }
  }
  process.exitCode = rows.every((r) => r.name.startsWith('ref') || r.name.startsWith('part') || r.goal)
    ? 0
    : 1;
} finally {
  await redis.stop();
  secrets.server.close();
  rmSync(dir, { recursive: true, force: true });
}
