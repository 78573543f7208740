/**
 * What reading a cold start's secrets in one request saves (decision D48), measured alone: a fresh `node` process
 * per run imports a module that reads four secrets at once through `readSecret` (core/adapters/runtime.ts), and
 * reports the CPU and wall time of those reads only (its module load excluded). Two builds, interleaved run by run:
 * as deployed (one BatchGetSecretValue, core/adapters/secret-batch.ts) and with the reads one GetSecretValue each
 * (SECRETS_ONE_BY_ONE, the code before D48); against the cold-start bench's Secrets Manager stand-in over HTTP and
 * over HTTPS (a TLS handshake per connection, as on AWS). The whole-function rows of `npm run cold-start`
 * ("ref: session, secrets one by one") show the same difference, inside the noise of a loaded machine.
 *
 * Run: node --import tsx bench/secret-reads.ts [runs, default 30]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { esbuildOptions } from '../infra/constructs/app-function/bundling.js';
import { SECRETS_ONE_BY_ONE } from './cold-start-parts.js';
import { startSecretsStandIn } from './cold-start-scenarios.js';
import { REPO_ROOT } from './function-bundles.js';

const RUNS = Number(process.argv[2] ?? 30);
const READER = `import { readSecret } from ${JSON.stringify(`${REPO_ROOT}core/adapters/runtime.ts`)};
const arn = (n) => 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mirror/bench-' + n + '-AbCdEf';
const cpu = process.cpuUsage();
const started = performance.now();
await Promise.all(['session', 'origin-verify', 'viewer-token', 'playback-keys'].map((n) => readSecret(arn(n))));
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }));
process.exit(0);
`;

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

function run(file: string, env: Record<string, string>): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `await import(process.env.READER_URL)`],
      {
        env: { ...env, READER_URL: pathToFileURL(file).href },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as Timing);
      else reject(new Error(`reader exited ${code}: ${out.slice(-1000)}`));
    });
  });
}

const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

mkdirSync(join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
const dir = mkdtempSync(join(REPO_ROOT, 'node_modules', '.cache', 'mirror-secret-reads-'));
try {
  const entry = join(dir, 'reader.mjs');
  writeFileSync(entry, READER);
  const builds: [string, Plugin[]][] = [
    ['batched (D48)', []],
    ['one by one', [SECRETS_ONE_BY_ONE]],
  ];
  const files = new Map<string, string>();
  for (const [name, plugins] of builds) {
    const file = join(dir, String(files.size), 'index.mjs');
    await build({ ...esbuildOptions(entry, file), plugins });
    files.set(name, file);
  }
  console.log(`four secret reads at once in a fresh process, p50 of ${RUNS} runs (ms)`);
  for (const tls of [false, true]) {
    const secrets = await startSecretsStandIn(tls);
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'ASIABENCHEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
      AWS_SESSION_TOKEN: 'bench-session-token',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      ...secrets.env,
    };
    const timings = new Map([...files.keys()].map((name): [string, Timing[]] => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, file] of files) timings.get(name)!.push(await run(file, env));
    }
    for (const [name, runs] of timings) {
      const wall = p50(runs.map((r) => r.ms)).toFixed(1);
      const cpu = p50(runs.map((r) => r.cpuMs)).toFixed(1);
      console.log(
        `${tls ? 'https' : 'http '}  ${name.padEnd(14)} wall ${wall.padStart(6)}  cpu ${cpu.padStart(6)}`,
      );
    }
    await new Promise((resolve) => secrets.server.close(resolve));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
