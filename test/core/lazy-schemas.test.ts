import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Scenario, scenarioOf, seed, startSecretsStandIn } from '../../bench/cold-start-scenarios.js';
import { buildFunctionBundle, REPO_ROOT } from '../../bench/function-bundles.js';
import { type RedisServer, startRedis } from '../support/redis.js';

/**
 * Decision D48: schemas are built on first use. Each function bundle, built as AppFunction builds it and imported with
 * its environment as on Lambda, builds at most this many zod schemas while it initialises. What is left is its own
 * env schema (core/contracts/env.ts: control 77, session 51, needed at init) and one cheap `z.lazy` or enum per shared
 * schema the function's code references (core/streams/schema.ts and the like, about 15). Measured when D48 was made:
 * control 91 (653 before), session 76 (436 before). The bounds leave room for a few new leaves, not for a schema
 * module built eagerly again (the control API's schemas alone were 254, core/streams/status.ts 108).
 */
const MAX_SCHEMAS_AT_INIT: Readonly<Record<string, number>> = { control: 120, session: 110 };
/** Any one module other than env.ts: core/streams/schema.ts leaves 7 (its enums and referenced lazies). */
const MAX_PER_MODULE = 12;

/** Counts every zod/mini schema constructed (each runs ZodMiniType's initialiser once) and keeps its stack. */
const COUNT_SCHEMAS: Plugin = {
  name: 'count-zod-schemas',
  setup(build) {
    build.onLoad({ filter: /zod[\\/]v4[\\/]core[\\/]core\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const hook = '    function init(inst, def) {\n';
      // A zod upgrade that moves the initialiser must fail here, not count nothing.
      if (!source.includes(hook)) throw new Error(`zod's $constructor init not found in ${args.path}`);
      const count =
        'if (name === "ZodMiniType") { Error.stackTraceLimit = 30; (globalThis.__schemas ??= []).push(new Error().stack); }\n';
      return { contents: source.replace(hook, hook + count), loader: 'js' };
    });
  },
};

const CHILD = `
await import(process.env.COUNT_BUNDLE_URL);
(await import('node:fs')).writeFileSync(process.env.COUNT_OUT, JSON.stringify(globalThis.__schemas ?? []));
process.exit(0);
`;

// Under the repository, so the bundles resolve their external @aws-sdk packages; a fresh clone has no .cache yet.
const cacheDir = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cacheDir, { recursive: true });
const dir = mkdtempSync(join(cacheDir, 'mirror-lazy-schemas-'));
let redis: RedisServer;
let secrets: Awaited<ReturnType<typeof startSecretsStandIn>>;
const scenarios = new Map<string, Scenario>();

beforeAll(async () => {
  redis = await startRedis();
  secrets = await startSecretsStandIn();
  const client = redis.client();
  const rendition = await seed(client, join(dir, 'media'));
  for (const name of Object.keys(MAX_SCHEMAS_AT_INIT)) {
    scenarios.set(name, await scenarioOf(name, client, redis.url, secrets.url, rendition));
  }
}, 30_000);
afterAll(async () => {
  await redis?.stop();
  secrets?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The stacks of the schemas built while `name`'s bundle initialised, each named by its first repository file. */
async function schemasAtInit(name: string): Promise<string[]> {
  const bundle = await buildFunctionBundle(name, join(dir, name), [COUNT_SCHEMAS]);
  const out = join(dir, `${name}.json`);
  const env = {
    PATH: process.env.PATH ?? '',
    ...scenarios.get(name)!.env,
    COUNT_BUNDLE_URL: pathToFileURL(bundle.file).href,
    COUNT_OUT: out,
  };
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(err) : reject(new Error(`${name} exited ${code}: ${err}`)),
    );
  });
  const stacks = JSON.parse(readFileSync(out, 'utf8')) as string[];
  expect(stacks.length, stderr).toBeGreaterThan(0);
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle.file}.map`, 'utf8')));
  return stacks.map((stack) => {
    for (const [, line, column] of stack.matchAll(/index\.mjs:(\d+):(\d+)/g)) {
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as { originalSource?: string };
      if (entry.originalSource === undefined) continue;
      const file = resolve(dirname(bundle.file), entry.originalSource);
      if (!file.includes('/node_modules/')) return relative(REPO_ROOT, file);
    }
    return 'zod';
  });
}

/** Schemas per source file, largest first. */
function bySource(sources: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const source of sources) counts.set(source, (counts.get(source) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** `functions/control/schemas.ts 254, core/streams/status.ts 108, ...`: the failure's pointer. */
const listed = (counts: [string, number][]) => counts.map(([source, n]) => `${source} ${n}`).join(', ');

describe('schemas built at initialisation (D48)', () => {
  for (const [name, max] of Object.entries(MAX_SCHEMAS_AT_INIT)) {
    it(`${name} builds at most ${max} zod schemas while it initialises`, async () => {
      const counts = bySource(await schemasAtInit(name));
      const total = counts.reduce((sum, [, n]) => sum + n, 0);
      expect(total, `${name}: ${listed(counts)}`).toBeLessThanOrEqual(max);
      // Besides the env schema, built on purpose, a module leaves a few lazies and enums: more is one built eagerly.
      const eager = counts.filter(
        ([source, n]) => n > MAX_PER_MODULE && !source.endsWith('core/contracts/env.ts'),
      );
      expect(eager, `${name}: ${listed(counts)}`).toEqual([]);
    }, 30_000);
  }
});
