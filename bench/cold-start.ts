/**
 * Lambda cold start (decision D26): each handler bundled exactly as AppFunction bundles it (FUNCTION_BUNDLING), its
 * size (bytes and gzip), and its module initialisation: fresh `node` processes, each with the function's environment
 * (its contract in core/contracts/env.ts, plausible AWS values, a real redis-server) timing `await import(bundle)`.
 * Goals: 300 KB and 50 ms per bundle. References in the same run: classic zod alone (`import { z } from 'zod'`), built
 * the same way (the handlers carried all of it before D26), and an empty module (this machine's floor under its load).
 *
 * Run: npm run cold-start [-- --runs 10]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ControlEnv, ManifestEnv, readEnv, SessionEnv } from '../core/contracts/env.js';
import { esbuildOptions, MAX_BUNDLE_BYTES } from '../infra/constructs/app-function/bundling.js';
import { startRedis } from '../test/support/redis.js';
import { buildFunctionBundle, functionNames, largestInputs, REPO_ROOT } from './function-bundles.js';

const MAX_INIT_MS = 50;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;

/** What AppFunction and the bindings set on AWS, with plausible values (no credentials: no SDK call at init). */
function environmentOf(name: string, redisUrl: string): Record<string, string> {
  const common = {
    MIRROR_REDIS_URL: redisUrl,
    MIRROR_STAGE: 'bench',
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: 'Mirror',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    AWS_REGION: 'eu-west-1',
  };
  const byFunction: Record<string, [{ safeParse: (v: unknown) => unknown }, Record<string, string>]> = {
    manifest: [ManifestEnv, { MIRROR_STORAGE: 's3', MIRROR_BUCKET: 'mirror-bench-media' }],
    // The ARN form would read Secrets Manager at init: a network call this bench cannot make.
    session: [SessionEnv, { MIRROR_SESSION_SECRET: 'b'.repeat(64), MIRROR_PLAYBACK_PROTECTION: 'on' }],
    control: [
      ControlEnv,
      {
        MIRROR_SRT_HOST: 'ingest.mirror.example',
        MIRROR_SRT_PORT: '9000',
        MIRROR_ECS_CLUSTER: 'mirror-bench',
        MIRROR_ECS_SERVICE: 'mirror-bench-ingest',
        MIRROR_MIN_TASKS: '1',
        MIRROR_MAX_TASKS: '4',
        MIRROR_DISTRIBUTION_ID: 'E2BENCHEXAMPLE',
        MIRROR_REDIS_REPLICATION_GROUP: 'mirror-bench-live',
      },
    ],
  };
  const entry = byFunction[name];
  if (entry === undefined) throw new Error(`no bench environment for function ${name}: add one here`);
  const env = { ...common, ...entry[1] };
  // Fails here, naming the variable, if the contract changed and the bench did not follow.
  readEnv(entry[0] as typeof ManifestEnv, env);
  return env;
}

const CHILD = `
const cpu = process.cpuUsage();
const started = performance.now();
await import(process.env.BENCH_BUNDLE_URL);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }) + '\\n');
process.exit(0);
`;

interface Timing {
  /** Wall-clock milliseconds of `await import()`: what Lambda's Init Duration counts. */
  readonly ms: number;
  /** CPU milliseconds of the same: less sensitive to other load on the machine. */
  readonly cpuMs: number;
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
  readonly goal: boolean;
}

async function measure(name: string, file: string, bytes: number, env: Record<string, string>): Promise<Row> {
  const timings: Timing[] = [];
  for (let i = 0; i < RUNS; i++) timings.push(await timeImport(file, env));
  const wall = timings.map((t) => t.ms).sort((a, b) => a - b);
  const cpu = timings.map((t) => t.cpuMs).sort((a, b) => a - b);
  const p50 = median(wall);
  const gzipBytes = gzipSync(readFileSync(file)).length;
  return {
    name,
    bytes,
    gzipBytes,
    p50,
    max: wall.at(-1)!,
    cpuP50: median(cpu),
    goal: bytes <= MAX_BUNDLE_BYTES && p50 <= MAX_INIT_MS,
  };
}

function median(sorted: readonly number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const cache = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'mirror-cold-start-'));
const redis = await startRedis();
try {
  const rows: Row[] = [];
  for (const name of functionNames()) {
    const bundle = await buildFunctionBundle(name, join(dir, name));
    console.log(`${name}: ${largestInputs(bundle)}`);
    rows.push(await measure(name, bundle.file, bundle.bytes, environmentOf(name, redis.url)));
  }
  // Reference: classic zod alone, bundled the same way.
  const refEntry = join(dir, 'zod-classic.ts');
  writeFileSync(refEntry, "import { z } from 'zod';\nz.object({ id: z.string() }).parse({ id: 'x' });\n");
  const refFile = join(dir, 'zod-classic', 'index.mjs');
  const ref = await build({ ...esbuildOptions(refEntry, refFile), metafile: true });
  const refBytes = Object.entries(ref.metafile.outputs).find(([p]) => p.endsWith('.mjs'))![1].bytes;
  rows.push({ ...(await measure('ref: zod classic', refFile, refBytes, {})), goal: true });
  // Reference: an empty module, the floor on this machine under its current load.
  const emptyFile = join(dir, 'empty.mjs');
  writeFileSync(emptyFile, 'export {};\n');
  rows.push({ ...(await measure('ref: empty module', emptyFile, 11, {})), goal: true });

  console.log(
    `\nruns per bundle: ${RUNS}; goals: <= ${MAX_BUNDLE_BYTES / 1000} KB, init p50 <= ${MAX_INIT_MS} ms`,
  );
  console.log('function             bytes   gzip  init p50 ms  init max ms  cpu p50 ms  goals');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(18)} ${(r.bytes / 1000).toFixed(1).padStart(6)}K ${(r.gzipBytes / 1000).toFixed(1).padStart(5)}K ` +
        `${r.p50.toFixed(1).padStart(12)} ${r.max.toFixed(1).padStart(12)} ${r.cpuP50.toFixed(1).padStart(11)}  ` +
        `${r.name.startsWith('ref') ? '-' : r.goal ? 'met' : 'MISSED'}`,
    );
  }
  process.exitCode = rows.every((r) => r.goal) ? 0 : 1;
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
