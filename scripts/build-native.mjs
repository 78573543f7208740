// Builds the libsrt Node-API addon (containers/ingest/native) with node-gyp.
// `--optional` (used by postinstall) warns instead of failing when libsrt's headers are missing,
// so a machine that only deploys infrastructure can still `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const optional = process.argv.includes('--optional');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'containers', 'ingest', 'native');

function fail(message) {
  if (optional) {
    console.warn(`[mirror] SRT addon not built: ${message}`);
    process.exit(0);
  }
  console.error(`[mirror] SRT addon build failed: ${message}`);
  process.exit(1);
}

if (!existsSync(join(addonDir, 'binding.gyp'))) process.exit(0);
if (spawnSync('pkg-config', ['--exists', 'srt']).status !== 0) {
  fail('libsrt headers not found. Fix: sudo apt-get install -y libsrt-openssl-dev pkg-config');
}

function nodeGypScript() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return fail('node-gyp not found (it ships with npm)');
  }
}

const args = [nodeGypScript(), 'rebuild', '--directory', addonDir];
// Build against the installed Node headers instead of downloading them (no internet here).
const localHeaders = join(dirname(process.execPath), '..', 'include', 'node', 'node.h');
if (existsSync(localHeaders)) args.push(`--nodedir=${join(dirname(process.execPath), '..')}`);
const result = spawnSync(process.execPath, args, { stdio: optional ? 'pipe' : 'inherit' });
if (result.status !== 0) fail(`node-gyp exited with ${result.status}\n${result.stderr?.toString() ?? ''}`);
