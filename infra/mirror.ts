import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, DockerImage, IgnoreMode, type StackProps, Validations } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { Source } from 'aws-cdk-lib/aws-s3-deployment';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildWebAppSync } from '../web/build.js';
import { dvrWindowDays, type StageConfig } from './config.js';
import { DataStack, type DataStackProps } from './stacks/data-stack.js';
import { NetworkStack } from './stacks/network-stack.js';
import { PlatformStack } from './stacks/platform-stack.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What the ingest image build may see: the repository root is the build context (the Dockerfile copies core/ and
 * the lockfile), minus everything else. Keep in step with .dockerignore for `docker build` outside CDK.
 */
export const INGEST_IMAGE_EXCLUDE = [
  '*',
  '!containers',
  '!core',
  '!scripts',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  'containers/ingest/native/build',
  '**/node_modules',
];

/** The ingest service image, built from containers/ingest/Dockerfile with the repository root as context. */
export function ingestImage(): ContainerImage {
  return ContainerImage.fromAsset(REPO_ROOT, {
    file: 'containers/ingest/Dockerfile',
    ignoreMode: IgnoreMode.DOCKER,
    exclude: INGEST_IMAGE_EXCLUDE,
    // GPU instances (g4dn/g5/g6/g6e) are x86_64.
    platform: Platform.LINUX_AMD64,
  });
}

/** The viewer and operator pages, built by web/build.ts in-process (Docker only as a fallback). */
export function webSource() {
  return Source.asset(join(REPO_ROOT, 'web'), {
    bundling: {
      local: {
        tryBundle(outDir: string) {
          buildWebAppSync(outDir);
          return true;
        },
      },
      image: DockerImage.fromRegistry('node:22'),
    },
  });
}

export interface MirrorStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly platform: PlatformStack;
}

export interface BuildOptions {
  /** Replaces the ingest image built from containers/ingest/Dockerfile. */
  readonly ingestImage?: ContainerImage;
}

/** The data stack's share of a stage's configuration: retention, lifecycle and Redis sizing. */
export function dataSettings(config: StageConfig): Omit<DataStackProps, keyof StackProps | 'vpc'> {
  return {
    retain: config.retainData,
    dvrWindowDays: dvrWindowDays(config.media.dvrWindowS),
    recordingTransitionDays: config.media.recordingTransitionDays,
    recordingRetentionDays: config.media.recordingRetentionDays,
    redisNodeType: config.redis.nodeType,
    redisReplicas: config.redis.replicas,
  };
}

/** Adds one stage of Mirror to the app: network, data and platform stacks, checked by cdk-nag's AwsSolutions. */
export function buildMirror(app: App, config: StageConfig, options: BuildOptions = {}): MirrorStacks {
  const env = config.env;
  const prefix = `Mirror-${config.stage}`;
  const tags = { project: 'mirror', stage: config.stage };
  const network = new NetworkStack(app, `${prefix}-Network`, { env, tags });
  const data = new DataStack(app, `${prefix}-Data`, {
    env,
    tags,
    vpc: network.vpc,
    ...dataSettings(config),
  });
  const platform = new PlatformStack(app, `${prefix}-Platform`, {
    env,
    tags,
    stage: config.stage,
    vpc: network.vpc,
    storage: data.storage,
    liveState: data.liveState,
    ingest: config.ingest,
    media: config.media,
    delivery: config.delivery,
    manifest: config.manifest,
    audience: config.audience,
    operators: config.operators,
    retainData: config.retainData,
    alarmEmail: config.alarmEmail,
    ingestImage: options.ingestImage ?? ingestImage(),
    webSource: webSource(),
    functionsDir: join(REPO_ROOT, 'functions'),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { network, data, platform };
}
