import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ControlEnv,
  ENV_BINDING,
  EventsEnv,
  IngestEnv,
  type KeysBoundAs,
  keysBoundAs,
  ManifestEnv,
  RedisEnv,
  SessionEnv,
  StorageEnv,
} from '../../core/contracts/env.js';
import { loadStageConfig, type StageConfig } from '../../infra/config.js';
import { bindEnvironment, type FragmentValues } from '../../infra/constructs/binding.js';
import { REPO_ROOT } from '../../infra/mirror.js';
import { onlyResource, synthStage } from './synth.js';

// The CDK app binds exactly the variables the processes read (core/contracts/env.ts): nothing dead, nothing missing.

/** AppFunction's house settings, read by Node and Powertools rather than through a contract. */
const FUNCTION_HOUSE = /^(NODE_OPTIONS|POWERTOOLS_\w+)$/;
/**
 * Set on the container for others: the NVIDIA container runtime reads NVIDIA_DRIVER_CAPABILITIES, and CDK adds
 * AWS_REGION (for the AWS SDK) to every awsvpc task.
 */
const CONTAINER_HOUSE = new Set(['NVIDIA_DRIVER_CAPABILITIES', 'AWS_REGION']);

type WhenEnabledKey = KeysBoundAs<typeof ENV_BINDING, 'aws-when-enabled'>;
/**
 * The stage setting that binds each feature-gated variable. Typed over every `aws-when-enabled` key, so a new one
 * does not compile until it says when it is bound. Playback tokens are only worth issuing when the edge checks them,
 * so MIRROR_PLAYBACK_PROTECTION is bound exactly where the stage turns playback protection on.
 */
const BOUND_WHEN: { readonly [K in WhenEnabledKey]: (config: StageConfig) => boolean } = {
  MIRROR_PLAYBACK_PROTECTION: (config) => config.delivery.playbackProtection,
  MIRROR_ENTITLEMENTS: (config) => config.delivery.entitlements !== undefined,
  // The key ring the session signs from and the function the control API asks to rotate (D37).
  MIRROR_PLAYBACK_KEYS_SECRET_ARN: (config) => config.delivery.playbackProtection,
  MIRROR_PLAYBACK_KEYS_FUNCTION: (config) => config.delivery.playbackProtection,
  // Named on a rotation of the origin-verify secret (D39): a new value starts fresh session instances.
  MIRROR_ORIGIN_VERIFY_VERSION: (config) => config.delivery.originVerifyVersion !== undefined,
};

type Contract = Parameters<typeof keysBoundAs>[0];

function expectedKeys(contract: Contract, config: StageConfig): string[] {
  const gated = keysBoundAs(contract, 'aws-when-enabled').filter((key) =>
    BOUND_WHEN[key as WhenEnabledKey](config),
  );
  return [...keysBoundAs(contract, 'aws'), ...gated].sort();
}

const FUNCTIONS: Readonly<Record<string, Contract>> = {
  manifest: ManifestEnv,
  session: SessionEnv,
  control: ControlEnv,
  events: EventsEnv,
};

const STAGES: ReadonlyArray<readonly [string, string, unknown]> = [
  ['dev', 'dev', undefined],
  ['prod', 'prod', undefined],
  // prod turns playback protection on (D37), dev does not: this one shows prod without it.
  ['prod without playback protection', 'prod', { delivery: { playbackProtection: false } }],
  // Customer entitlement keys (D36) bind MIRROR_ENTITLEMENTS on the session function.
  [
    'dev with customer entitlement keys',
    'dev',
    { delivery: { entitlements: { jwksUrl: 'https://id.example/jwks.json' } } },
  ],
];

describe.each(STAGES)('environment contract: %s', (_name, stage, overrides) => {
  const config = loadStageConfig(stage, overrides);
  const { platform } = synthStage(stage, overrides);

  it.each(Object.keys(FUNCTIONS))(
    'the %s function gets exactly the variables its contract binds on AWS',
    (service) => {
      const functions = Object.values(platform.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
      );
      expect(functions).toHaveLength(1);
      const bound = Object.keys(functions[0]!.Properties.Environment.Variables).filter(
        (key) => !FUNCTION_HOUSE.test(key),
      );
      expect(bound.sort()).toEqual(expectedKeys(FUNCTIONS[service]!, config));
    },
  );

  it('the ingest container gets exactly the variables and secrets its contract binds on AWS', () => {
    const task = onlyResource(platform, 'AWS::ECS::TaskDefinition').properties;
    const [container] = task.ContainerDefinitions as Array<{
      Environment: Array<{ Name: string }>;
      Secrets?: Array<{ Name: string }>;
    }>;
    // No secrets injected since D38 (IAM-authenticated Redis): none is expected, any would be checked.
    const bound = [...container!.Environment, ...(container!.Secrets ?? [])]
      .map((v) => v.Name)
      .filter((name) => !CONTAINER_HOUSE.has(name));
    expect(bound.sort()).toEqual(expectedKeys(IngestEnv, config));
  });
});

describe('environment contract', () => {
  it('documents every variable a process reads in docs/configuration.md', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    for (const key of Object.keys(ENV_BINDING)) expect(doc, key).toContain(`\`${key}\``);
  });

  it('binds only the keys of a fragment the CDK app may set', () => {
    const set: string[] = [];
    const target = { addEnvironment: (name: string) => set.push(name) };
    const redis = {
      MIRROR_REDIS_URL: 'rediss://h:6380',
      MIRROR_REDIS_USER: 'u',
      MIRROR_REDIS_IAM_GROUP: 'g',
    };
    // @ts-expect-error MIRROR_BUCKET belongs to StorageEnv, not RedisEnv
    const typo: FragmentValues<typeof RedisEnv.shape> = { ...redis, MIRROR_BUCKET: 'b' };
    expect(() => bindEnvironment(target, RedisEnv, typo)).toThrow(/MIRROR_BUCKET/);
    const s3 = { MIRROR_STORAGE: 's3', MIRROR_BUCKET: 'b' } as const;
    // @ts-expect-error MIRROR_MEDIA_DIR is never bound on AWS
    const localOnly: FragmentValues<typeof StorageEnv.shape> = { ...s3, MIRROR_MEDIA_DIR: '/m' };
    expect(() => bindEnvironment(target, StorageEnv, localOnly)).toThrow(/MIRROR_MEDIA_DIR/);
    // @ts-expect-error MIRROR_REDIS_USER is bound on every stage, so it may not be left out
    const missing: FragmentValues<typeof RedisEnv.shape> = { MIRROR_REDIS_URL: 'rediss://h:6380' };
    bindEnvironment(target, RedisEnv, missing);
    expect(set).toEqual(['MIRROR_REDIS_URL']);
  });
});
