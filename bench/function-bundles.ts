import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import {
  esbuildOptions,
  OPENAPI_FILE,
  openApiDocumentOf,
} from '../infra/constructs/app-function/bundling.js';

/** The repository root: bundles resolve `@aws-sdk/*` (external, as on Lambda) from its node_modules. */
export const REPO_ROOT = new URL('..', import.meta.url).pathname;

/** Every Lambda function: a folder under functions/ with a handler.ts, as the Api construct wires them. */
export function functionNames(): string[] {
  return readdirSync(join(REPO_ROOT, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, 'functions', d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

export interface BuiltBundle {
  readonly name: string;
  /** The bundle file (index.mjs, as NodejsFunction names it). */
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * Builds one handler as AppFunction does (FUNCTION_BUNDLING through `esbuildOptions`) into `dir`, with the OpenAPI
 * document AppFunction ships beside it. `plugins` only for the bench's references (the bundle as it was before a
 * change): what deploys has none.
 */
export async function buildFunctionBundle(
  name: string,
  dir: string,
  plugins: Plugin[] = [],
): Promise<BuiltBundle> {
  mkdirSync(dir, { recursive: true });
  const entry = join(REPO_ROOT, 'functions', name, 'handler.ts');
  const file = join(dir, 'index.mjs');
  const result = await build({ ...esbuildOptions(entry, file), metafile: true, plugins });
  const document = openApiDocumentOf(entry);
  if (document !== undefined) copyFileSync(join(REPO_ROOT, document), join(dir, OPENAPI_FILE));
  const output =
    result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith('.mjs'))!]!;
  return { name, file, bytes: output.bytes, metafile: result.metafile };
}

/** The largest contributors to a bundle, by package (node_modules) or source folder, for a failure message. */
export function largestInputs(bundle: BuiltBundle, count = 8): string {
  const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
  const bySource = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    bySource.set(pkg, (bySource.get(pkg) ?? 0) + input.bytesInOutput);
  }
  return [...bySource]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([source, bytes]) => `${source} ${(bytes / 1000).toFixed(1)} KB`)
    .join(', ');
}
