import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../bench/function-bundles.js';
import { esbuildOptions } from '../../infra/constructs/app-function/bundling.js';

// D47, amended: the functions run without --enable-source-maps; their logger maps an error's stack through the
// bundle's .map itself. A bundle built as AppFunction builds one logs an error thrown in core/contracts/env.ts, in a
// node without the flag: the logged stack and location must name that source line, not `index.mjs:1:<column>`.

const cache = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'mirror-stack-map-test-'));
const bundle = join(dir, 'fn', 'index.mjs');
const envSource = join(REPO_ROOT, 'core/contracts/env.ts');
/** readEnv's throw: the frame the mapped stack must start with. */
const throwLine =
  readFileSync(envSource, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('throw new Error(`environment variable')) + 1;

beforeAll(async () => {
  const entry = join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    `import { createJsonLogger } from ${JSON.stringify(join(REPO_ROOT, 'core/adapters/json-logger.ts'))};\n` +
      `import { readEnv, SessionEnv } from ${JSON.stringify(envSource)};\n` +
      "try { readEnv(SessionEnv, {}); } catch (error) { createJsonLogger('session').error('cold start failed', error); }\n",
  );
  await build(esbuildOptions(entry, bundle));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loggedError(): Promise<{ location: string; stack: string; message: string }> {
  const { stderr } = await promisify(execFile)(process.execPath, [bundle], {
    env: { PATH: process.env.PATH },
  });
  return (JSON.parse(stderr.trim()) as { error: { location: string; stack: string; message: string } }).error;
}

describe('bundle stack mapping (no --enable-source-maps)', () => {
  it('logs the source position of a frame in the bundle', async () => {
    expect(throwLine).toBeGreaterThan(0);
    const error = await loggedError();
    expect(error.message).toMatch(/^environment variable MIRROR_REDIS_URL/);
    expect(error.location).toBe(`core/contracts/env.ts:${throwLine}`);
    const frames = error.stack.split('\n').slice(1);
    expect(frames[0]).toMatch(new RegExp(`\\(core/contracts/env\\.ts:${throwLine}:\\d+\\)$`));
    expect(error.stack).not.toContain('index.mjs');
  });

  it('leaves the stack as V8 wrote it when no map ships beside the bundle', async () => {
    rmSync(`${bundle}.map`);
    const error = await loggedError();
    expect(error.location).toMatch(/fn\/index\.mjs:\d+$/);
    expect(error.stack).toContain('index.mjs');
  });
});
