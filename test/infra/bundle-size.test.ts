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
import { ControlEnv, EventsEnv, IngestEnv, ManifestEnv, SessionEnv } from '../../core/contracts/env.js';
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
    expect([...bundles.keys()]).toEqual(['control', 'events', 'manifest', 'session']);
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

  it('carries no ioredis (D47): the functions talk RESP through core/adapters/resp/client.ts', () => {
    // ioredis was 41 ms of every cold start (module load) and about 200 KB of each bundle; the ingest keeps it.
    for (const bundle of bundles.values()) {
      const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
      const inputs = Object.keys(output.inputs);
      expect(
        inputs.filter((p) => /node_modules\/(ioredis|@ioredis|denque|redis-errors|redis-parser)\//.test(p)),
        bundle.name,
      ).toEqual([]);
      expect(
        inputs.some((p) => p.endsWith('core/adapters/resp/client.ts')),
        bundle.name,
      ).toBe(true);
    }
  });

  it('builds only its own process env schema (D47 amended): no other process variable is in the bundle', () => {
    // core/contracts/env.ts builds each schema in a pure arrow, so esbuild drops what a function never reads; every
    // process schema in every bundle was 4-5 ms of each cold start. The names survive minification as object keys.
    const own: Record<string, { readonly shape: object }> = {
      control: ControlEnv,
      events: EventsEnv,
      manifest: ManifestEnv,
      session: SessionEnv,
    };
    const every = new Set([...Object.values(own), IngestEnv].flatMap((schema) => Object.keys(schema.shape)));
    for (const bundle of bundles.values()) {
      const text = readFileSync(bundle.file, 'utf8');
      const mine = new Set(Object.keys(own[bundle.name]!.shape));
      const present = [...every].filter((key) => text.includes(`${key}:`));
      expect(present.sort(), bundle.name).toEqual([...mine].sort());
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
    // D47 amended: the logger maps errors' stacks through the map shipped beside the bundle (no --enable-source-maps).
    // (Its sources are relative to the folder it was built in, so the same mappings, not the same bytes.)
    const mappings = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { mappings: string }).mappings;
    expect(mappings(join(asset, 'index.mjs.map'))).toBe(mappings(`${measured.file}.map`));
    expect(readFileSync(join(asset, 'openapi.json'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, OPENAPI_DOCUMENTS.session!), 'utf8'),
    );
  });
});
