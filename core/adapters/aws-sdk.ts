import type * as CloudFront from '@aws-sdk/client-cloudfront';
import type * as KeyValueStore from '@aws-sdk/client-cloudfront-keyvaluestore';
import type * as Ecs from '@aws-sdk/client-ecs';
import type * as ElastiCache from '@aws-sdk/client-elasticache';
import type * as Kms from '@aws-sdk/client-kms';
import type * as Lambda from '@aws-sdk/client-lambda';
import type * as S3 from '@aws-sdk/client-s3';
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';

/**
 * AWS SDK client packages, loaded on first use (decision D26, amended). Loading one at module scope cost a Lambda
 * 100-250 ms of CPU at initialisation each, and most requests never call AWS (a playlist, a heartbeat, a stream list).
 *
 * Only type imports above: esbuild hoists a static import of an external package to the top of the bundle, so a
 * static `import { S3Client } ...` anywhere in a function's import graph loads the package at init.
 *
 * How a package is loaded depends on the build. Lambda bundles (FUNCTION_BUNDLING) define
 * `globalThis.__mirrorSdkRequire` as the bundle's CommonJS `require`: the SDK is external there (the runtime's copy),
 * and `require` of its single-file CommonJS build costs about 40 % less CPU than `import()` of the same file (Node
 * runs its export lexer over the whole file for an ESM import of CommonJS). Everywhere else (tsx, vitest, the ingest
 * container's bundle, which inlines the SDK) it is undefined, and a literal `import()` is what esbuild can inline.
 */
const sdkRequire = (globalThis as { __mirrorSdkRequire?: (id: string) => unknown }).__mirrorSdkRequire;

/** A package's loader: the first call loads it, every later call returns the same promise. */
function loader<T>(id: string, viaImport: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= sdkRequire ? Promise.resolve(sdkRequire(id) as T) : viaImport();
    return loaded;
  };
}

export const loadS3 = /* @__PURE__ */ loader<typeof S3>(
  '@aws-sdk/client-s3',
  () => import('@aws-sdk/client-s3'),
);
export const loadEcs = /* @__PURE__ */ loader<typeof Ecs>(
  '@aws-sdk/client-ecs',
  () => import('@aws-sdk/client-ecs'),
);
export const loadCloudFront = /* @__PURE__ */ loader<typeof CloudFront>(
  '@aws-sdk/client-cloudfront',
  () => import('@aws-sdk/client-cloudfront'),
);
export const loadElastiCache = /* @__PURE__ */ loader<typeof ElastiCache>(
  '@aws-sdk/client-elasticache',
  () => import('@aws-sdk/client-elasticache'),
);
export const loadKms = /* @__PURE__ */ loader<typeof Kms>(
  '@aws-sdk/client-kms',
  () => import('@aws-sdk/client-kms'),
);
export const loadSecretsManager = /* @__PURE__ */ loader<typeof SecretsManager>(
  '@aws-sdk/client-secrets-manager',
  () => import('@aws-sdk/client-secrets-manager'),
);
export const loadLambda = /* @__PURE__ */ loader<typeof Lambda>(
  '@aws-sdk/client-lambda',
  () => import('@aws-sdk/client-lambda'),
);
export const loadKeyValueStore = /* @__PURE__ */ loader<typeof KeyValueStore>(
  '@aws-sdk/client-cloudfront-keyvaluestore',
  () => import('@aws-sdk/client-cloudfront-keyvaluestore'),
);

/**
 * A client built on first use from its loaded package, once: `lazyClient(loadEcs, (sdk) => new sdk.ECSClient({}))`.
 * A failed load is not cached as a client: the next call tries again.
 */
export function lazyClient<M, C>(load: () => Promise<M>, create: (sdk: M) => C): () => Promise<C> {
  let client: C | undefined;
  return async () => {
    client ??= create(await load());
    return client;
  };
}
