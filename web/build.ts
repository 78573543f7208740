import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const webDir = dirname(fileURLToPath(import.meta.url));

/** Entry points of the web app: each becomes `<name>.js` next to the static files. */
export const WEB_ENTRY_POINTS = {
  viewer: join(webDir, 'src', 'viewer.ts'),
  operator: join(webDir, 'src', 'operator.ts'),
  // The embeddable player for integrators' pages (docs/player.md): `<script type="module" src="/mirror-player.js">`.
  'mirror-player': join(webDir, 'src', 'embed', 'mirror-player.ts'),
};

/**
 * Builds the viewer and operator pages into outDir (static files plus bundled scripts).
 * Synchronous so CDK's local bundling and the local edge can call it the same way.
 */
export function buildWebAppSync(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  cpSync(join(webDir, 'public'), outDir, { recursive: true });
  buildSync({
    entryPoints: WEB_ENTRY_POINTS,
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome110', 'safari16', 'firefox115'],
    logLevel: 'warning',
  });
}
