import { z } from 'zod';
import { EntitlementSettings } from '../core/auth/settings.js';
import { DEFAULT_RTP_PORT } from '../core/contracts/env.js';
import { DEFAULT_WINDOW_SEGMENTS, MAX_WINDOW_SEGMENTS, MIN_WINDOW_SEGMENTS } from '../core/hls/constants.js';
import { LADDERS, LadderPreset } from '../core/ladder.js';
import { LONGEST_SEGMENT_TARGET_MS, SHORTEST_SEGMENT_TARGET_MS } from '../core/latency-profiles.js';
import { viewerApiSizing } from '../core/sessions/api-sizing.js';
import { ingestMemoryFor, instanceMemory, knownSizes } from './instance-memory.js';

/** Lambda keeps this many of an account's concurrent executions unreserved: reservations may not touch them. */
export const UNRESERVED_LAMBDA_CONCURRENCY = 100;

/**
 * Per-stage deployment configuration. Read once by infra/app.ts (`-c stage=NAME`), validated here, and handed to
 * constructs as narrow props. Built-in stage defaults live in STAGES; a platform team overrides any field from
 * cdk.json context (`"mirror": { "<stage>": { ... } }`) without touching code.
 */

/** GPU families whose NVIDIA GPUs carry NVENC engines: T4 (g4dn), A10G (g5), L4 (g6), L40S (g6e). */
export const NVENC_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e'] as const;
/** Datacenter GPU families without NVENC (A100/H100/H200/B200): useless for transcoding. */
const NO_NVENC_FAMILIES = /^p[2-6][a-z]*$/;

/** Validates the family and size syntax of a GPU instance type; the message says why a family is refused. */
function gpuInstanceTypeIssue(value: string): string | undefined {
  const match = /^([a-z0-9-]+)\.([a-z0-9]+)$/.exec(value);
  if (!match) return `"${value}" is not an EC2 instance type (expected e.g. g4dn.xlarge)`;
  const family = match[1]!;
  if (NO_NVENC_FAMILIES.test(family)) {
    return `${value}: ${family} instances have no NVENC video encoder (A100/H100-class GPUs); use one of ${NVENC_FAMILIES.join(', ')}`;
  }
  if (!(NVENC_FAMILIES as readonly string[]).includes(family)) {
    return `${value}: ${family} is not a GPU family with NVENC; use one of ${NVENC_FAMILIES.join(', ')}`;
  }
  if (!/^(\d*xlarge|metal)$/.test(match[2]!)) return `${value}: ${match[2]} is not a size of ${family}`;
  // The container's memory limit is derived from the instance's memory (instance-memory.ts).
  if (instanceMemory(value) === undefined) {
    return `${value}: ${match[2]} is not a size of ${family} (one of ${knownSizes(family).join(', ')})`;
  }
  return undefined;
}

const cidr = z.string().refine(
  (v) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
    if (!m) return false;
    return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  },
  { message: 'must be an IPv4 CIDR such as 203.0.113.0/24' },
);

const port = z.int().min(1024).max(65535);

const ingestSchema = z
  .object({
    /** EC2 instance type of the GPU container instances. */
    instanceType: z.string().superRefine((v, ctx) => {
      const issue = gpuInstanceTypeIssue(v);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    }),
    minTasks: z.int().min(1),
    maxTasks: z.int().min(1).max(100),
    /** Concurrent NVENC sessions one task runs per GPU (one per rung per stream). */
    nvencSessionsPerGpu: z.int().min(1).max(64),
    srtPort: port,
    /** RTP ingest (decision D46): a second UDP listener on the same NLB, the same encoder CIDRs. */
    rtpPort: port.default(DEFAULT_RTP_PORT),
    healthPort: port,
    /** Who may send SRT or RTP to the load balancer. 0.0.0.0/0 means anyone (passphrases, SRTP keys still apply). */
    encoderCidrs: z.array(cidr).min(1),
    /**
     * Seconds a task has after SIGTERM to move its publishers (container stop timeout, MIRROR_DRAIN_S, the NLB's
     * draining interval for a target that answers 503). It refuses new publishers at once and closes each
     * connected one with a reason as soon as another task reports room for it, the rest just before the end.
     */
    drainSeconds: z.int().min(10).max(120),
  })
  .strict()
  .refine((v) => v.maxTasks >= v.minTasks, {
    path: ['maxTasks'],
    message: 'must be greater than or equal to minTasks',
  })
  .refine((v) => v.srtPort !== v.healthPort, { path: ['healthPort'], message: 'must differ from srtPort' })
  .refine((v) => v.rtpPort !== v.srtPort && v.rtpPort !== v.healthPort, {
    path: ['rtpPort'],
    message: 'must differ from srtPort and healthPort',
  })
  .superRefine((v, ctx) => {
    // Every stream of a task at its memory bounds must fit the task's share of the instance.
    if (instanceMemory(v.instanceType) === undefined) return; // reported on instanceType
    try {
      ingestMemoryFor(v.instanceType, v.nvencSessionsPerGpu);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['nvencSessionsPerGpu'],
        message: `${v.instanceType}: ${(error as Error).message}`,
      });
    }
  });

/** LL-HLS: a live playlist must stay at least three target durations long (RFC 8216bis 6.2.2). */
const MIN_PLAYLIST_TARGET_DURATIONS = 3;

const mediaSchema = z
  .object({
    ladder: LadderPreset,
    /*
     * No part or segment target here: each stream's latency profile sets them per rendition (decision D28,
     * core/latency-profiles.ts, where tests hold every profile to the LL-HLS rules).
     */
    /** Full segments listed in a live media playlist. */
    windowSegments: z.int().min(MIN_WINDOW_SEGMENTS).max(MAX_WINDOW_SEGMENTS),
    /** How far back viewers may seek; segments and init segments live this long in S3. Seconds. */
    dvrWindowS: z
      .int()
      .min(60)
      .max(7 * 24 * 3600),
    /** Recordings are kept this many days. */
    recordingRetentionDays: z.int().min(2).max(3650),
    /** Recordings move to a cheaper storage class after this many days. */
    recordingTransitionDays: z.int().min(1),
  })
  .strict()
  .superRefine((v, ctx) => {
    // A live playlist spans at least 3 target durations (RFC 8216bis 6.2.2) under every profile: checked with the
    // shortest segments (TARGETDURATION is a segment rounded up to whole seconds, so at least 1 s).
    const targetDurationS = Math.ceil(SHORTEST_SEGMENT_TARGET_MS / 1000);
    const shortestWindowMs = v.windowSegments * SHORTEST_SEGMENT_TARGET_MS;
    if (shortestWindowMs < MIN_PLAYLIST_TARGET_DURATIONS * targetDurationS * 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['windowSegments'],
        message: `the playlist must span at least ${MIN_PLAYLIST_TARGET_DURATIONS} target durations (${MIN_PLAYLIST_TARGET_DURATIONS * targetDurationS} s); ${v.windowSegments} x ${SHORTEST_SEGMENT_TARGET_MS} ms segments is ${shortestWindowMs / 1000} s`,
      });
    }
    const windowMs = v.windowSegments * LONGEST_SEGMENT_TARGET_MS;
    if (v.dvrWindowS * 1000 < windowMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['dvrWindowS'],
        message: `must be at least the live playlist window (${windowMs / 1000} s)`,
      });
    }
    if (v.recordingTransitionDays >= v.recordingRetentionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['recordingTransitionDays'],
        message: `must be less than recordingRetentionDays (${v.recordingRetentionDays})`,
      });
    }
  });

const redisSchema = z
  .object({
    /** ElastiCache node type, e.g. cache.t4g.small or cache.r7g.large. */
    nodeType: z
      .string()
      .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an ElastiCache node type such as cache.r7g.large'),
    /** Read replicas besides the primary; at least 1 gives Multi-AZ automatic failover. */
    replicas: z.int().min(0).max(5),
  })
  .strict();

const deliverySchema = z
  .object({
    /** Custom domain names on the distribution; needs a certificate in us-east-1. */
    domainNames: z
      .array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a lowercase DNS name'))
      .optional(),
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/,
        'must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from us-east-1)',
      )
      .optional(),
    priceClass: z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']),
    /** ISO 3166-1 alpha-2 country codes allowed to play; omitted means everywhere. */
    geoAllowList: z
      .array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE'))
      .min(1)
      .optional(),
    /** Origins allowed to fetch playlists and media cross-origin. */
    corsAllowOrigins: z.array(z.string().min(1)).min(1),
    /**
     * Playback protection (docs/sessions.md, D37): a CloudFront Function checks the session's per-stream playback
     * tokens on playlists and media, signed with playback keys the deployment keeps and loads into the edge's
     * KeyValueStore itself. On in prod; off in dev (and locally) so any player can open a playlist URL.
     */
    playbackProtection: z.boolean(),
    /**
     * Visibility of a stream created without one (decision D36): `private` (only viewers with an entitlement see and
     * open it) in prod, `public` in dev and locally, so a new stream plays there as before.
     */
    defaultVisibility: z.enum(['public', 'private']),
    /**
     * Keys trusted for customers' viewer entitlements (D36): `jwksUrl` and/or inline `keys` (a JWKS document or PEM),
     * with the `issuer`/`audience` their tokens must carry. Mirror's own key is trusted besides; unset, only it.
     */
    entitlements: z.optional(EntitlementSettings),
    /** Days a playback key signs before the schedule rotates it (the key it replaces stays valid ~2.5 min more). */
    playbackKeyRotationDays: z.int().min(1).max(365),
    /**
     * The HTTP API's own custom domain (D39): with it the execute-api endpoint is disabled and CloudFront and SigV4
     * callers use this name (a CNAME to the ApiDomainTarget output); the certificate is in the stack's region.
     */
    apiDomain: z
      .object({
        domainName: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a lowercase DNS name'),
        certificateArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
            "must be an ACM certificate ARN in the stack's region",
          ),
      })
      .strict()
      .optional(),
    /** Secrets Manager VersionId of the origin-verify secret CloudFront sends (set on a rotation, docs/operations.md). */
    originVerifyVersion: z
      .string()
      .regex(/^[A-Za-z0-9-]{32,64}$/, 'must be a Secrets Manager VersionId')
      .optional(),
  })
  .strict()
  .refine((v) => (v.domainNames === undefined) === (v.certificateArn === undefined), {
    path: ['certificateArn'],
    message: 'domainNames and certificateArn go together: set both or neither',
  });

/**
 * Manifest function invocations held at once per live rendition: one blocking playlist reload per cache-key variant
 * players use (with and without `_HLS_skip`) plus the held preload-hinted part. Origin shield and request collapsing
 * make identical requests from every edge one origin request, so this does not grow with viewers.
 */
export const HELD_REQUESTS_PER_RENDITION = 3;

/**
 * Manifest invocations in flight when every ingest slot of the stage publishes: streams (maxTasks x
 * nvencSessionsPerGpu, which the ingest task uses as its stream capacity) x rungs of the ladder x
 * HELD_REQUESTS_PER_RENDITION. The manifest's reserved concurrency must cover it, or live playback is throttled.
 */
export function manifestConcurrencyAtCapacity(
  ingest: { readonly maxTasks: number; readonly nvencSessionsPerGpu: number },
  ladder: LadderPreset,
): number {
  return ingest.maxTasks * ingest.nvencSessionsPerGpu * LADDERS[ladder].length * HELD_REQUESTS_PER_RENDITION;
}

/** Room above the held requests for short ones (stored parts, playlists without directives, cold starts). */
const MANIFEST_CONCURRENCY_HEADROOM = 1.1;

/** The reserved concurrency a stage gets when it sets none: the need at full capacity plus headroom, in tens. */
export function derivedManifestConcurrency(
  ingest: { readonly maxTasks: number; readonly nvencSessionsPerGpu: number },
  ladder: LadderPreset,
): number {
  return Math.ceil((manifestConcurrencyAtCapacity(ingest, ladder) * MANIFEST_CONCURRENCY_HEADROOM) / 10) * 10;
}

const manifestSchema = z
  .object({
    /**
     * Lambda reserved concurrency of the manifest function: its guaranteed share of the account and its ceiling, so
     * a flood of playlist or part misses is throttled there instead of starving the session and control functions
     * (and everything else in the account). At least manifestConcurrencyAtCapacity() for the stage; unset, it is
     * derivedManifestConcurrency(). The account must keep 100 unreserved executions, so a default account (1000)
     * takes at most 900 here.
     */
    reservedConcurrency: z.int().min(10).max(10_000).optional(),
  })
  .strict();

const audienceSchema = z
  .object({
    /**
     * Concurrent viewers the stage is sized for: the HTTP API's stage throttle and the session function's reserved
     * concurrency follow from it (core/sessions/api-sizing.ts, docs/scale.md, decision D27).
     */
    expectedViewers: z.int().min(1).max(10_000_000),
    /**
     * The account's Lambda concurrent-executions quota in the stage's region (1,000 by default). The functions'
     * reserved concurrency must leave 100 unreserved (Lambda refuses the deployment otherwise), so synthesis fails
     * early with what to request instead of CloudFormation failing halfway through a deploy.
     */
    lambdaConcurrencyQuota: z.int().min(1000).max(1_000_000),
  })
  .strict();

const operatorsSchema = z
  .object({
    /** MFA (TOTP) for operators signing in to the operator page on AWS: `required` or `optional` per operator. */
    mfa: z.enum(['optional', 'required']),
    /** Prefix of the Cognito Hosted UI domain (<prefix>.auth.<region>.amazoncognito.com); default mirror-<stage>-<account>. */
    domainPrefix: z
      .string()
      .regex(
        /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be lowercase letters, digits and hyphens (at most 63)',
      )
      .refine(
        (v) => !/aws|amazon|cognito/.test(v),
        'must not contain aws, amazon or cognito (Cognito refuses them)',
      )
      .optional(),
  })
  .strict();

export const stageConfigSchema = z
  .object({
    /** Stage name; part of stack names. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be a lowercase slug of at most 20 characters'),
    /** Fixed account and region; omitted means an environment-agnostic synthesis. */
    env: z
      .object({
        account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
      })
      .strict()
      .optional(),
    /** Keep stateful resources (media bucket, Redis) when the stack is deleted. */
    retainData: z.boolean(),
    ingest: ingestSchema,
    media: mediaSchema,
    redis: redisSchema,
    delivery: deliverySchema,
    manifest: manifestSchema,
    audience: audienceSchema,
    /** Operator sign-in on AWS (Cognito user pool and Hosted UI, decision D12). */
    operators: operatorsSchema,
    /** E-mail address subscribed to the alarm topic. */
    alarmEmail: z.email().optional(),
  })
  .strict()
  // Production keeps the live edge through the loss of a node or an AZ.
  .refine((v) => v.stage !== 'prod' || v.redis.replicas >= 1, {
    path: ['redis', 'replicas'],
    message: 'prod needs at least 1 replica for Multi-AZ automatic failover',
  })
  .superRefine((v, ctx) => {
    const needed = manifestConcurrencyAtCapacity(v.ingest, v.media.ladder);
    if (v.manifest.reservedConcurrency !== undefined && v.manifest.reservedConcurrency < needed) {
      const rungs = LADDERS[v.media.ladder].length;
      ctx.addIssue({
        code: 'custom',
        path: ['manifest', 'reservedConcurrency'],
        message: `${v.manifest.reservedConcurrency} would throttle live playback at full ingest capacity: ${v.ingest.maxTasks} tasks x ${v.ingest.nvencSessionsPerGpu} streams x ${rungs} rungs x ${HELD_REQUESTS_PER_RENDITION} held requests = ${needed}`,
      });
    }
  })
  .superRefine((v, ctx) => {
    const manifest = v.manifest.reservedConcurrency ?? derivedManifestConcurrency(v.ingest, v.media.ladder);
    const session = viewerApiSizing(v.audience.expectedViewers).sessionConcurrency;
    const reservable = v.audience.lambdaConcurrencyQuota - UNRESERVED_LAMBDA_CONCURRENCY;
    if (manifest + session > reservable) {
      ctx.addIssue({
        code: 'custom',
        path: ['audience', 'lambdaConcurrencyQuota'],
        message: `the functions reserve ${manifest + session} concurrent executions (manifest ${manifest}, session ${session} for ${v.audience.expectedViewers} viewers), but a quota of ${v.audience.lambdaConcurrencyQuota} leaves ${reservable} reservable: request a Lambda concurrency increase to at least ${manifest + session + UNRESERVED_LAMBDA_CONCURRENCY} (docs/scale.md) and set lambdaConcurrencyQuota, or lower expectedViewers`,
      });
    }
  })
  .transform((v) => ({
    ...v,
    manifest: {
      reservedConcurrency:
        v.manifest.reservedConcurrency ?? derivedManifestConcurrency(v.ingest, v.media.ladder),
    },
  }));

export type StageConfig = z.infer<typeof stageConfigSchema>;
export type IngestConfig = StageConfig['ingest'];
export type MediaConfig = StageConfig['media'];
export type ManifestConfig = StageConfig['manifest'];

const BASE = {
  retainData: true,
  ingest: {
    instanceType: 'g4dn.xlarge',
    minTasks: 1,
    maxTasks: 4,
    nvencSessionsPerGpu: 8,
    srtPort: 9000,
    healthPort: 8081,
    encoderCidrs: ['0.0.0.0/0'],
    drainSeconds: 120,
  },
  media: {
    ladder: 'full',
    // The defaults and their reasons: core/hls/constants.ts.
    windowSegments: DEFAULT_WINDOW_SEGMENTS,
    dvrWindowS: 4 * 3600,
    recordingRetentionDays: 30,
    recordingTransitionDays: 7,
  },
  redis: { nodeType: 'cache.r7g.large', replicas: 1 },
  delivery: {
    priceClass: 'PriceClass_All',
    corsAllowOrigins: ['*'],
    playbackProtection: false,
    playbackKeyRotationDays: 30,
    defaultVisibility: 'public',
  },
  // Manifest reserved concurrency derived from the ingest sizing (derivedManifestConcurrency), e.g. prod at full
  // capacity: 10 tasks x 8 streams x 3 rungs (full ladder) x 3 held requests = 720, plus 10 % = 800, which leaves 200
  // of a default account's 1000 for session, control and everything else (AWS keeps at least 100 unreserved).
  manifest: {},
  audience: { expectedViewers: 1_000, lambdaConcurrencyQuota: 1_000 },
  operators: { mfa: 'required' },
} as const;

/** Built-in stages. Overrides from cdk.json context are merged on top before validation. */
export const STAGES: Readonly<Record<string, unknown>> = {
  dev: {
    ...BASE,
    stage: 'dev',
    retainData: false,
    ingest: { ...BASE.ingest, maxTasks: 2 },
    // Manifest reserved concurrency (derived): 2 tasks x 8 streams x 3 rungs x 3 held requests = 144, plus 10 % = 160.
    redis: { nodeType: 'cache.t4g.small', replicas: 0 },
    delivery: { ...BASE.delivery, priceClass: 'PriceClass_100' },
    operators: { mfa: 'optional' },
  },
  prod: {
    ...BASE,
    stage: 'prod',
    ingest: { ...BASE.ingest, minTasks: 2, maxTasks: 10 },
    redis: { nodeType: 'cache.r7g.large', replicas: 2 },
    // Only a session's viewers play its streams (D37): the edge checks playback tokens.
    // Private unless the operator says otherwise (D36): a new stream is seen only by entitled viewers.
    delivery: { ...BASE.delivery, playbackProtection: true, defaultVisibility: 'private' },
    // The seed's audience: 25 streams x 5,000 viewers. Its functions reserve more than a default account allows: the
    // quota below must be requested before the first prod deploy (docs/scale.md lists every quota this needs).
    audience: { expectedViewers: 125_000, lambdaConcurrencyQuota: 2_000 },
  },
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars from the override replace the base. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

/**
 * Resolves and validates one stage. Throws ConfigError naming every bad field as `stage <name>: <path>: <why>`.
 * @param overrides the `mirror.<stage>` object from cdk.json context, if any
 */
export function loadStageConfig(stage: string, overrides?: unknown): StageConfig {
  const base = STAGES[stage];
  if (base === undefined && overrides === undefined) {
    throw new ConfigError(
      `unknown stage "${stage}": choose one of ${Object.keys(STAGES).join(', ')} with -c stage=NAME, or define it under the "mirror" context in cdk.json`,
    );
  }
  const merged = deepMerge(base ?? { ...BASE, stage }, overrides ?? {});
  const result = stageConfigSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration for stage "${stage}":\n${lines.join('\n')}`);
  }
  return result.data;
}

/** DVR window in whole days (S3 lifecycle works in days), at least 1. */
export function dvrWindowDays(dvrWindowS: number): number {
  return Math.max(1, Math.ceil(dvrWindowS / 86_400));
}
