import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuiltBundle,
  buildFunctionBundle,
  functionNames,
  largestInputs,
  REPO_ROOT,
} from '../../bench/function-bundles.js';
import { AppFunction } from '../../infra/constructs/app-function/app-function.js';
import { MAX_BUNDLE_BYTES, OPENAPI_DOCUMENTS } from '../../infra/constructs/app-function/bundling.js';

// Decisions D26 and D34: the handler bundles stay small and load the AWS SDK on first use (cold start);
// bench/cold-start.ts measures their initialisation.
const cache = join(REPO_ROOT, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
// Inside the repository, so the bundles find @aws-sdk/* (external, as on Lambda) in its node_modules.
const dir = mkdtempSync(join(cache, 'mirror-bundle-test-'));
const bundles = new Map<string, BuiltBundle>();

beforeAll(async () => {
  for (const name of functionNames()) bundles.set(name, await buildFunctionBundle(name, join(dir, name)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Lambda handler bundles (D26)', () => {
  it('each is at most 300 KB, with neither classic zod, the JSON Schema generator nor Powertools in it', () => {
    expect([...bundles.keys()]).toEqual(['control', 'manifest', 'session']);
    for (const bundle of bundles.values()) {
      expect(bundle.bytes, `${bundle.name}: ${largestInputs(bundle)}`).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
      const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
      const inputs = Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path);
      // Classic zod is 92 KB whatever the schemas use; the generator only serves /openapi.json.
      expect(
        inputs.filter((p) => p.includes('zod/v4/classic')),
        bundle.name,
      ).toEqual([]);
      expect(
        inputs.filter((p) => p.includes('json-schema')),
        bundle.name,
      ).toEqual([]);
      // D34: the functions log and write metrics through core/adapters/json-logger.ts and emf.ts; Powertools
      // Logger was 21 KB of each bundle, Metrics 13 KB more of the manifest's.
      expect(
        inputs.filter((p) => p.includes('@aws-lambda-powertools/')),
        bundle.name,
      ).toEqual([]);
    }
  });

  it('carries the ioredis prototype patch (D34, scripts/patch-ioredis.mjs, run by postinstall)', () => {
    // Without it ioredis's ~600 prototype additions run in V8's slow path: 11-50 ms of every cold start.
    for (const bundle of bundles.values()) {
      const text = readFileSync(bundle.file, 'utf8');
      expect(
        /\.push\("sentinel"\)[;,]Object\.create\([\w$]+\.prototype\)[;,][\w$]+\.forEach\(/.test(text),
        `${bundle.name}: ioredis is not patched; run node scripts/patch-ioredis.mjs (or npm ci)`,
      ).toBe(true);
    }
  });

  it('loads no AWS SDK package at initialisation (D26 amended): static imports of @aws-sdk are hoisted', () => {
    for (const bundle of bundles.values()) {
      const text = readFileSync(bundle.file, 'utf8');
      // A static import in minified ESM: `import{X as a}from"@aws-sdk/..."` or `import"@aws-sdk/..."`.
      expect(text.match(/import[^(;]*?["']@aws-sdk\/[^"']+["']/g) ?? [], bundle.name).toEqual([]);
    }
  });

  it('the bundled control function serves the committed OpenAPI document shipped beside it, SDK unloaded', async () => {
    const event = {
      rawPath: '/api/control/openapi.json',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', sourceIp: '10.0.0.1' } },
    };
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(bundles.get('control')!.file).href)});
      const result = await handler(${JSON.stringify(event)});
      const { createRequire } = await import('node:module');
      const cache = Object.keys(createRequire(import.meta.url).cache);
      result.sdkFiles = cache.filter((file) => file.includes('@aws-sdk'));
      process.stdout.write(JSON.stringify(result));
      process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        MIRROR_REDIS_URL: 'redis://127.0.0.1:9',
        MIRROR_SRT_HOST: 'ingest.mirror.example',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        // Every AWS port configured: their clients are still built on first use only.
        MIRROR_ECS_CLUSTER: 'mirror-test',
        MIRROR_ECS_SERVICE: 'mirror-test-ingest',
        MIRROR_DISTRIBUTION_ID: 'E2TESTEXAMPLE',
        MIRROR_REDIS_REPLICATION_GROUP: 'mirror-test-live',
      },
    });
    const result = JSON.parse(stdout.slice(stdout.indexOf('{"statusCode"'))) as {
      statusCode: number;
      body: string;
      sdkFiles: string[];
    };
    expect(result.statusCode).toBe(200);
    expect(result.sdkFiles).toEqual([]);
    expect(JSON.parse(result.body)).toEqual(
      JSON.parse(readFileSync(join(REPO_ROOT, OPENAPI_DOCUMENTS.control!), 'utf8')),
    );
  });

  it('AppFunction deploys byte for byte the bundle measured here, with its OpenAPI document', () => {
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'Bundles');
    new AppFunction(stack, 'Session', {
      entry: join(REPO_ROOT, 'functions', 'session', 'handler.ts'),
      serviceName: 'session',
      stage: 'test',
      vpc: new Vpc(stack, 'Vpc', { maxAzs: 1 }),
    });
    app.synth();
    const assets = readdirSync(app.outdir).filter((d) => d.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const asset = join(app.outdir, assets[0]!);
    const measured = bundles.get('session')!;
    expect(readFileSync(join(asset, 'index.mjs')).equals(readFileSync(measured.file))).toBe(true);
    expect(readFileSync(join(asset, 'openapi.json'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, OPENAPI_DOCUMENTS.session!), 'utf8'),
    );
  });
});
