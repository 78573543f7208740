import { basename, dirname } from 'node:path';
import type { BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * The file beside a bundle that holds its API's OpenAPI document. Bundled, the apps read it instead of generating
 * the document (functions/control/app.ts, functions/session/app.ts): esbuild drops the generator, and zod's JSON Schema code with it (D26).
 */
export const OPENAPI_FILE = 'openapi.json';

/**
 * The committed document each function with an API serves, by function folder (functions/<name>/handler.ts).
 * scripts/write-openapi.ts writes them from the route tables; a test fails while one is stale.
 */
export const OPENAPI_DOCUMENTS: Readonly<Record<string, string>> = {
  control: 'docs/openapi.json',
  session: 'docs/openapi-sessions.json',
};

/** Node major of the Lambda runtime: AppFunction picks Runtime.NODEJS_22_X, esbuild targets the same. */
export const FUNCTION_NODE_TARGET = 'node22';

/**
 * How AppFunction bundles a handler, as data: the construct hands it to NodejsFunction, and the cold-start bench and
 * the bundle-size test (bench/cold-start.ts, test/infra/bundle-size.test.ts) build with `esbuildOptions`, so what
 * they measure is what deploys (a test compares the two byte for byte).
 */
export const FUNCTION_BUNDLING = {
  forceDockerBundling: false,
  format: 'esm' as OutputFormat,
  target: FUNCTION_NODE_TARGET,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The runtime ships SDK v3 (NodejsFunction's default for Node 18+, stated here so the bench cannot differ).
  externalModules: ['@aws-sdk/*'],
  // ESM bundles need a require() for CommonJS code: the AWS SDK loader below (ioredis, before D47).
  banner:
    "import { createRequire as __mirrorCreateRequire } from 'node:module';const require = __mirrorCreateRequire(import.meta.url);",
  // A constant for esbuild, not a Lambda variable: the branch that generates the OpenAPI document is dead code.
  // The loader of AWS SDK packages (core/adapters/aws-sdk.ts) takes this as the SDK's `require`: the banner's, so a
  // package is loaded on first use with CommonJS `require` (its single-file build, about 40 % less CPU than
  // `import()`) and resolved from the runtime's copy (NODE_PATH). Not a variable: undefined in any other build.
  define: {
    'process.env.MIRROR_OPENAPI_DOCUMENT': JSON.stringify(OPENAPI_FILE),
    'globalThis.__mirrorSdkRequire': 'require',
  },
} as const satisfies BundlingOptions;

/** Size goal of one handler bundle (decision D26): the cold-start bench prints it, a test enforces it. */
export const MAX_BUNDLE_BYTES = 300_000;

/** The esbuild build NodejsFunction runs for FUNCTION_BUNDLING (its CLI flags, as build options). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    outfile,
    platform: 'node',
    format: FUNCTION_BUNDLING.format,
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    external: [...FUNCTION_BUNDLING.externalModules],
    banner: { js: FUNCTION_BUNDLING.banner },
    define: { ...FUNCTION_BUNDLING.define },
    logLevel: 'warning',
  };
}

/** Where the function whose handler is `entry` finds its OpenAPI document, if it serves one. */
export function openApiDocumentOf(entry: string): string | undefined {
  return OPENAPI_DOCUMENTS[basename(dirname(entry))];
}
