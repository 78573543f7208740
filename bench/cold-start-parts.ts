import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import type { Plugin } from 'esbuild';
import { REPO_ROOT } from './function-bundles.js';

/**
 * Where a handler bundle's initialisation goes (decision D34), two ways, both in the cold-start bench's run:
 * - PART_REFERENCES: each dependency imported alone, built as the handlers are (FUNCTION_BUNDLING), timed like the
 *   bundles. A part's figure less the empty module's is what it adds to a cold start (roughly: parts share zod's
 *   core and Node's built-in modules, so they do not add up exactly).
 * - `--profile`: one more cold start per function under `node --cpu-prof`, its samples attributed through the
 *   bundle's source map to the package or folder whose module-scope code ran (breakdown below).
 */

const root = (path: string) => JSON.stringify(`${REPO_ROOT}${path}`);

export const PART_REFERENCES: Readonly<Record<string, string>> = {
  'part: ioredis (import)': "import { Redis } from 'ioredis';\nglobalThis.kept = Redis;\n",
  'part: ioredis + new Redis()':
    "import { Redis } from 'ioredis';\nglobalThis.kept = new Redis('redis://127.0.0.1:9', { lazyConnect: true });\n",
  'part: RESP client + new (D47)': `import { createFunctionRedisClient } from ${root('core/adapters/runtime.ts')};\nglobalThis.kept = createFunctionRedisClient('redis://127.0.0.1:9');\nglobalThis.kept.on('error', () => undefined);\n`,
  'part: Powertools Logger + new':
    "import { Logger } from '@aws-lambda-powertools/logger';\nglobalThis.kept = new Logger({ serviceName: 'x' });\n",
  'part: JsonLogger + new (D34)': `import { createJsonLogger } from ${root('core/adapters/json-logger.ts')};\nglobalThis.kept = createJsonLogger('x');\n`,
  'part: EmfMetrics + new (D34)': `import { EmfMetrics } from ${root('core/adapters/emf.ts')};\nglobalThis.kept = new EmfMetrics({ namespace: 'Mirror', serviceName: 'x' });\n`,
  'part: Powertools Metrics + new':
    "import { Metrics } from '@aws-lambda-powertools/metrics';\n" +
    "globalThis.kept = new Metrics({ namespace: 'Mirror', serviceName: 'x' });\n",
  'part: zod/mini, one schema + parse': `import * as z from ${root('core/zod.ts')};\nglobalThis.kept = z.object({ a: z.string().check(z.minLength(1)) }).parse({ a: 'x' });\n`,
  'part: env contracts + readEnv': `import { readEnv, SessionEnv } from ${root('core/contracts/env.ts')};\nglobalThis.kept = readEnv(SessionEnv, { MIRROR_REDIS_URL: 'redis://x', MIRROR_SESSION_SECRET: 'b'.repeat(64) });\n`,
  'part: manifest app (import)': `import * as m from ${root('functions/manifest/app.ts')};\nglobalThis.kept = m;\n`,
  'part: session app (import)': `import * as m from ${root('functions/session/app.ts')};\nglobalThis.kept = m;\n`,
};

/** Top-level folders of this repository: a mapped source starting elsewhere is a package. */
const OUR_FOLDERS = new Set([
  'bench',
  'containers',
  'core',
  'functions',
  'infra',
  'local',
  'scripts',
  'test',
  'web',
]);

/**
 * The handlers as they were before D47, for a same-run comparison ("ref: <function> on ioredis"): the RESP client
 * replaced by ioredis with the options the functions had (core/adapters/redis.ts's createRedisClient, patched
 * Commander, auto-pipelining). `new RespClient(url, options)` returns the ioredis client, as a constructor may.
 */
export const BEFORE_D47: Plugin = {
  name: 'before-d47',
  setup(build) {
    build.onResolve({ filter: /\/resp\/client\.js$/ }, () => ({
      path: 'resp-client',
      namespace: 'before-d47',
    }));
    build.onLoad({ filter: /.*/, namespace: 'before-d47' }, () => ({
      contents:
        `import { createRedisClient } from ${root('core/adapters/redis.ts')};\n` +
        'export function RespClient(url, o) {\n' +
        '  return createRedisClient(url, { username: o.username, password: o.password, autoPipelining: true });\n' +
        '}\n',
      loader: 'js',
      resolveDir: REPO_ROOT,
    }));
  },
};

/**
 * The signed secret reads as they were before D47's amendment, for a same-run comparison ("ref: <function>, secrets
 * on node:http"): core/adapters/http1.ts's post1 replaced by the node:http request it replaced.
 */
export const SECRETS_ON_NODE_HTTP: Plugin = {
  name: 'secrets-on-node-http',
  setup(build) {
    build.onResolve({ filter: /\/http1\.js$/ }, () => ({ path: 'http1', namespace: 'node-http' }));
    build.onLoad({ filter: /.*/, namespace: 'node-http' }, () => ({
      contents:
        "import { request as httpRequest } from 'node:http';\n" +
        "import { request as httpsRequest } from 'node:https';\n" +
        'export function post1(url, headers, body, o) {\n' +
        "  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;\n" +
        '  return new Promise((resolve, reject) => {\n' +
        "    const req = send(url, { method: 'POST', headers, timeout: o.timeoutMs }, (response) => {\n" +
        '      const chunks = [];\n' +
        "      response.on('data', (chunk) => chunks.push(chunk));\n" +
        "      response.on('error', reject);\n" +
        "      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));\n" +
        '    });\n' +
        "    req.on('timeout', () => req.destroy(o.onTimeout()));\n" +
        "    req.on('error', reject);\n" +
        '    req.end(body);\n' +
        '  });\n' +
        '}\n',
      loader: 'js',
      resolveDir: REPO_ROOT,
    }));
  },
};

/**
 * The secret reads as they were before D48, for a same-run comparison ("ref: <function>, secrets one by one"): the
 * coalescing reader (core/adapters/secret-batch.ts) replaced by one GetSecretValue per read.
 */
export const SECRETS_ONE_BY_ONE: Plugin = {
  name: 'secrets-one-by-one',
  setup(build) {
    build.onResolve({ filter: /\/secret-batch\.js$/ }, () => ({
      path: 'secret-batch',
      namespace: 'one-by-one',
    }));
    build.onLoad({ filter: /.*/, namespace: 'one-by-one' }, () => ({
      contents: `export { getSecretStringSigned as readSecretStringCoalesced } from ${root('core/adapters/secrets.ts')};\n`,
      loader: 'js',
      resolveDir: REPO_ROOT,
    }));
  },
};

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  readonly children?: number[];
}

/**
 * CPU ms of one cold start by cause: Node compiling the bundle, reading its source map (--enable-source-maps), and
 * running module-scope code, by the first package or source folder under the bundle's top level, its callees
 * included: ioredis's own requires of node:net or debug count as ioredis, `new Redis()` called from
 * core/adapters/redis.ts counts as core/adapters. "top level" is the module bodies' own statements.
 */
export function breakdown(profileFile: string, bundleFile: string): [string, number][] {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const map = new SourceMap(JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8')));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries())
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = (id: number): number =>
    (self.get(id) ?? 0) + (nodes.get(id)!.children ?? []).reduce((sum, c) => sum + total(c), 0);
  const sourceOf = (frame: ProfileNode['callFrame']): string | undefined => {
    if (!frame.url.endsWith('/index.mjs')) return undefined;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
    // Sources are relative to the bundle's folder: ours start with a top-level folder, the rest are packages.
    const source = entry.originalSource?.replace(/^.*?\/work\/main\//, '').replace(/^(\.\.\/)+/, '');
    if (!source) return undefined;
    const parts = source.replace(/^.*node_modules\//, '').split('/');
    if (OUR_FOLDERS.has(parts[0]!)) return parts.slice(0, 2).join('/');
    return parts[0]!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  };
  const byCause = new Map<string, number>();
  const add = (cause: string, us: number) => byCause.set(cause, (byCause.get(cause) ?? 0) + us);
  const attribute = (id: number, cause: string | undefined): void => {
    const node = nodes.get(id)!;
    const own = cause ?? sourceOf(node.callFrame);
    add(own ?? 'other (unmapped)', self.get(id) ?? 0);
    for (const child of node.children ?? []) attribute(child, own);
  };
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (functionName === 'maybeCacheSourceMap')
      add('Node: source map (--enable-source-maps)', total(node.id));
    if (functionName === 'compileSourceTextModule' && url.includes('esm')) {
      const maps = (node.children ?? []).filter(
        (c) => nodes.get(c)!.callFrame.functionName === 'maybeCacheSourceMap',
      );
      add('Node: compile the bundle', total(node.id) - maps.reduce((s, c) => s + total(c), 0));
    }
    if (url.endsWith('/index.mjs') && lineNumber === 0 && columnNumber === 0) {
      add('top level (module bodies)', self.get(node.id) ?? 0);
      for (const child of node.children ?? []) attribute(child, undefined);
    }
  }
  return [...byCause]
    .map(([cause, us]) => [cause, us / 1000] as [string, number])
    .filter(([, ms]) => ms >= 0.5)
    .sort((a, b) => b[1] - a[1]);
}
