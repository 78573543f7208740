import { DEFAULT_DVR_WINDOW_S, MAX_DVR_WINDOW_S, MIN_DVR_WINDOW_S } from '../dvr/constants.js';
import { DEFAULT_WINDOW_SEGMENTS, MAX_WINDOW_SEGMENTS, MIN_WINDOW_SEGMENTS } from '../hls/constants.js';
import { DEFAULT_LADDER, LadderPreset } from '../ladder.js';
import { LIVE_TTL_S } from '../live/keys.js';
import { DEFAULT_RECORDING_RETENTION_DAYS } from '../recordings/entry.js';
import * as z from '../zod.js';
import { DEFAULT_INPUT_BUFFER_MIB, MIN_INPUT_BUFFER_MIB } from './ingest-memory.js';

/**
 * The environment of every Mirror process, as data (decision D6): one zod schema per process (ManifestEnv,
 * SessionEnv, ControlEnv, IngestEnv), composed from fragments that one construct binds on AWS (RedisEnv by
 * LiveState.bindTo, StorageEnv by MediaStorage.bindTo, ...). The processes parse their environment with these
 * schemas; the CDK app binds through `bindEnvironment` (infra/constructs/binding.ts), which accepts only a fragment's
 * keys; test/infra/env-contract.test.ts checks that the synthesized variables are exactly the AWS-bound keys.
 */

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max)), fallback);
const MAX_PORT = 65_535;

// Every schema below is built inside a `/* @__PURE__ */` arrow called at once: unchanged where it is used, but
// esbuild drops the ones a bundle never reads, so each function builds its own process schema and the fragments it
// is made of, not every process's (Lambda cold start, D47 amended: 4-5 ms of each function's initialisation).

// Fragments, one per binding construct.

/** Bound by LiveState.bindTo on every process. */
export const RedisEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_REDIS_URL: z.string().check(z.regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
    /**
     * Secrets Manager secret with a password; absent for IAM authentication (AWS, D38) or a local redis-server whose
     * URL carries the user and password.
     */
    MIRROR_REDIS_AUTH_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    /** The process's ElastiCache user (one per component, core/contracts/redis-acl.ts; D38). */
    MIRROR_REDIS_USER: z.optional(
      z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'an ElastiCache user id')),
    ),
    /** Set: authenticate as MIRROR_REDIS_USER with an IAM token for this replication group (lowercase id). */
    MIRROR_REDIS_IAM_GROUP: z.optional(
      z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'an ElastiCache replication group id (lowercase)')),
    ),
  }))();

/**
 * Bound by SecretsKey on the control function (seals) and the ingest task (opens): the KMS key of the SRT
 * passphrases' data keys (D38). The embedded default names a key file instead.
 */
export const SecretsKeyEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_SECRETS_KEY_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    MIRROR_SECRETS_KEY_FILE: z.optional(z.string().check(z.minLength(1))),
  }))();

/**
 * Bound by LiveState.bindTo on the control function only (`operate`): the replication group operators see and
 * drill failovers on (`/api/control/redis`); absent in the embedded default, where those routes answer 404.
 */
export const RedisOperationsEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_REDIS_REPLICATION_GROUP: z.optional(
      z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/, 'an ElastiCache replication group id')),
    ),
  }))();

/** Bound by LiveState.bindTo on containers only: ECS injects the token, so no Secrets Manager call at start. */
export const RedisTokenEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_REDIS_AUTH_TOKEN: z.optional(z.string().check(z.minLength(1))),
  }))();

/** Bound by MediaStorage.bindTo (S3 on AWS). Each process chooses its own default for MIRROR_STORAGE. */
export const StorageEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_STORAGE: z.enum(['s3', 'local']),
    MIRROR_BUCKET: z.optional(z.string()),
    /** An S3-compatible endpoint (tests use s3rver); path-style addressing then. */
    MIRROR_S3_ENDPOINT: z.optional(z.url()),
    MIRROR_MEDIA_DIR: z.optional(z.string()),
  }))();

/** Bound by AppFunction and the Ingest construct: the `Stage` metric dimension. */
export const StageEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_STAGE: z._default(z.string().check(z.minLength(1)), 'local') }))();

/** Bound by Api on the session function; the embedded default passes the secret itself. */
export const SessionSecretEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_SESSION_SECRET_ARN: z.optional(z.string()),
    MIRROR_SESSION_SECRET: z.optional(z.string().check(z.minLength(32))),
  }))();

/** Bound by the platform stack on the session function when the stage turns playback protection on. */
export const PlaybackProtectionEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_PLAYBACK_PROTECTION: z._default(z.enum(['on', 'off']), 'off'),
  }))();

/** Bound by PlaybackKeys.bindSigner on the session function with protection on: the key ring it signs with (D37). */
export const PlaybackKeysEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_PLAYBACK_KEYS_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  }))();

/** Bound by PlaybackKeys.grantRotate on the control function with protection on: the function that rotates (D37). */
export const PlaybackKeysRotatorEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_PLAYBACK_KEYS_FUNCTION: z.optional(z.string().check(z.minLength(1))),
  }))();

/**
 * Bound by Api on the session function (D39): the secret whose `current`/`previous` values CloudFront's origin header
 * must carry, and the version CloudFront was given (set on a rotation: changing it starts fresh instances, which read
 * both values). Absent in the embedded default: no check.
 */
export const OriginVerifyEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_ORIGIN_VERIFY_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    MIRROR_ORIGIN_VERIFY_VERSION: z.optional(z.string().check(z.minLength(1))),
  }))();

/** Bound by Ingest.bindControlTo: the SRT URL handed to operators when they create a stream. */
export const SrtEndpointEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_SRT_HOST: z.string().check(z.minLength(1)),
    MIRROR_SRT_PORT: int(9000, 1, MAX_PORT),
  }))();

/**
 * The RTP ingest port (issue 15, decision D46): 5004, RFC 3551's default RTP port, so encoders' presets need no
 * change. The ingest listens on it (IngestTaskEnv) and the control function names it in the destination it hands out.
 */
export const DEFAULT_RTP_PORT = 5004;

/** Bound by Ingest.bindControlTo: the port of the RTP destination handed to operators (same host as SRT's). */
export const RtpEndpointEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_RTP_PORT: int(DEFAULT_RTP_PORT, 1, MAX_PORT) }))();

/**
 * Bound by the Ingest construct on its container (decision D45): the UDP port the ingest's RTP receiver listens on,
 * the same figure as the control function's RtpEndpointEnv (one NLB listener forwards it unchanged).
 */
export const RtpIngestEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_RTP_PORT: RtpEndpointEnv.shape.MIRROR_RTP_PORT }))();

/** Bound by Ingest.bindControlTo: the ingest service the control function scales; scaling is off without them. */
export const IngestScalingEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_ECS_CLUSTER: z.optional(z.string()),
    MIRROR_ECS_SERVICE: z.optional(z.string()),
    MIRROR_MIN_TASKS: int(1),
    MIRROR_MAX_TASKS: int(4),
  }))();

/**
 * Bound by the Ingest construct on its container: the cluster whose service deployments a task watches to notice it
 * was replaced (containers/ingest/src/deployment-watch.ts, decision D20); off without it. The service name comes
 * from the task metadata: binding it here would make the task definition depend on the service that uses it.
 */
export const IngestClusterEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_ECS_CLUSTER: IngestScalingEnv.shape.MIRROR_ECS_CLUSTER }))();

/** Bound by Delivery.bindInvalidationTo. */
export const InvalidationEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_DISTRIBUTION_ID: z.optional(z.string()) }))();

/** Bound by MediaStorage.bindRecordingDeleteTo: the bucket whose recordings the control API deletes (D40). */
export const RecordingDeleteEnv = /* @__PURE__ */ (() =>
  z.object({ MIRROR_RECORDINGS_BUCKET: z.optional(z.string()) }))();

/** Only in the embedded default: on AWS, API Gateway (IAM or the operator JWT authorizer) decides who may call. */
export const ControlTokenEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_CONTROL_TOKEN: z.optional(z.string().check(z.minLength(16))),
  }))();

/** Bound by the platform stack on the control function (D36): the visibility of a stream created without one. */
export const StreamDefaultsEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_DEFAULT_VISIBILITY: z._default(z.enum(['public', 'private']), 'public'),
  }))();

/**
 * Bound by Api on the session and control functions (D36): the secret Mirror's entitlement key (Ed25519) is derived
 * from; the embedded default passes the secret itself. Neither: no viewer-tokens route, no Mirror-signed tokens.
 */
export const ViewerTokenKeyEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_VIEWER_TOKEN_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    MIRROR_VIEWER_TOKEN_SECRET: z.optional(z.string().check(z.minLength(32))),
  }))();

/** Bound by the platform stack on the session function where the stage trusts customers' keys (D36). */
export const EntitlementKeysEnv = /* @__PURE__ */ (() =>
  z.object({
    /** JSON of core/auth/settings.ts EntitlementSettings: JWKS URL, inline keys, issuer, audience. */
    MIRROR_ENTITLEMENTS: z.optional(z.string().check(z.minLength(2))),
  }))();

/** Bound by the Ingest construct from the stage's ingest settings. */
export const IngestTaskEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_GPU: z._default(z.enum(['auto', 'required', 'off']), 'auto'),
    /** Streams per task; on GPU hosts the NVENC session budget. */
    MIRROR_NVENC_SESSIONS_PER_GPU: int(0),
    MIRROR_SRT_PORT: int(9000, 1, MAX_PORT),
    MIRROR_HEALTH_PORT: int(8081, 0, MAX_PORT),
    MIRROR_DRAIN_S: int(30, 1),
    /**
     * Per-stream input buffer in front of ffmpeg, MiB. The Ingest construct binds the figure the container's memory
     * limit was computed with (core/contracts/ingest-memory.ts), so the streams of a task cannot outgrow it.
     */
    MIRROR_MAX_BUFFER_MB: int(DEFAULT_INPUT_BUFFER_MIB, MIN_INPUT_BUFFER_MIB),
  }))();

/**
 * Bound by the Ingest construct from the stage's media settings; limits and defaults from core/hls/constants.ts. Part
 * and segment targets are not here: each stream's latency profile sets them per rendition (decision D28).
 */
export const PackagingEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_WINDOW_SEGMENTS: int(DEFAULT_WINDOW_SEGMENTS, MIN_WINDOW_SEGMENTS, MAX_WINDOW_SEGMENTS),
    MIRROR_LADDER: z._default(LadderPreset, DEFAULT_LADDER),
    /** media.dvrWindowS: the DVR time-shift window the ingest writes DVR playlists for (decision D43), seconds. */
    MIRROR_DVR_WINDOW_S: int(DEFAULT_DVR_WINDOW_S, MIN_DVR_WINDOW_S, MAX_DVR_WINDOW_S),
  }))();

/**
 * Bound by the Ingest construct from media.recordingRetentionDays, the figure the bucket's recording lifecycle
 * expires objects after: the recorder's index entries expire with them (decision D40).
 */
export const RecordingEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_RECORDING_RETENTION_DAYS: int(DEFAULT_RECORDING_RETENTION_DAYS, 1, 3650),
  }))();

/** Ingest tuning the CDK app leaves at its defaults; the embedded default, tests and operators set it. */
export const IngestTuningEnv = /* @__PURE__ */ (() =>
  z.object({
    /** On ECS the task id comes from the task metadata endpoint. */
    MIRROR_TASK_ID: z.optional(
      z.string().check(z.regex(/^[\w.:-]{1,128}$/, 'letters, digits, . _ : - only')),
    ),
    MIRROR_CAPACITY: int(0),
    MIRROR_SRT_LATENCY_MS: int(120, 20),
    MIRROR_RECONNECT_GRACE_MS: int(10_000),
    MIRROR_METRICS: z._default(z.enum(['emf', 'off']), 'emf'),
    /** Seconds between nvidia-smi samples for the GPU metrics (GPU path only); 0 turns sampling off. */
    MIRROR_GPU_SAMPLE_S: int(10),
    /**
     * Seconds a stream's live state outlives its last publish (LIVE_TTL_S on AWS). Only the fault suite shortens it,
     * so "stopped for longer than the TTL" runs in seconds; any pause in publishing longer than this (an encoder
     * reconnecting, an ingest restart) loses the live state too, so it stays well above those.
     */
    MIRROR_LIVE_TTL_S: int(LIVE_TTL_S, 2, 86_400),
  }))();

// One schema per process.

/** The manifest function: live state and read access to media (S3 on AWS, a directory in tests). */
export const ManifestEnv = /* @__PURE__ */ (() =>
  z
    .object({
      ...RedisEnv.shape,
      ...StorageEnv.shape,
      MIRROR_STORAGE: z._default(StorageEnv.shape.MIRROR_STORAGE, 's3'),
      ...StageEnv.shape,
    })
    .check(
      z.refine((e) => e.MIRROR_STORAGE !== 's3' || e.MIRROR_BUCKET !== undefined, {
        path: ['MIRROR_BUCKET'],
        message: 'required when MIRROR_STORAGE=s3',
      }),
      z.refine((e) => e.MIRROR_STORAGE !== 'local' || e.MIRROR_MEDIA_DIR !== undefined, {
        path: ['MIRROR_MEDIA_DIR'],
        message: 'required when MIRROR_STORAGE=local',
      }),
    ))();
export type ManifestEnv = z.infer<typeof ManifestEnv>;

/** The session function: live state and the playback-token HMAC key. */
export const SessionEnv = /* @__PURE__ */ (() =>
  z
    .object({
      ...RedisEnv.shape,
      ...StageEnv.shape,
      ...SessionSecretEnv.shape,
      ...ViewerTokenKeyEnv.shape,
      ...EntitlementKeysEnv.shape,
      ...PlaybackProtectionEnv.shape,
      ...PlaybackKeysEnv.shape,
      ...OriginVerifyEnv.shape,
    })
    .check(
      z.refine((e) => e.MIRROR_SESSION_SECRET_ARN || e.MIRROR_SESSION_SECRET, {
        message: 'set MIRROR_SESSION_SECRET_ARN (or MIRROR_SESSION_SECRET locally)',
        path: ['MIRROR_SESSION_SECRET_ARN'],
      }),
      z.refine((e) => e.MIRROR_PLAYBACK_PROTECTION === 'off' || e.MIRROR_PLAYBACK_KEYS_SECRET_ARN, {
        message: 'required when MIRROR_PLAYBACK_PROTECTION=on (the playback key ring)',
        path: ['MIRROR_PLAYBACK_KEYS_SECRET_ARN'],
      }),
    ))();
export type SessionEnv = z.infer<typeof SessionEnv>;

/** The control function: live state, the SRT endpoint, the ingest service it scales and the distribution. */
export const ControlEnv = /* @__PURE__ */ (() =>
  z.object({
    ...RedisEnv.shape,
    ...RedisOperationsEnv.shape,
    ...StageEnv.shape,
    ...SrtEndpointEnv.shape,
    ...RtpEndpointEnv.shape,
    ...IngestScalingEnv.shape,
    ...InvalidationEnv.shape,
    ...RecordingDeleteEnv.shape,
    ...ControlTokenEnv.shape,
    ...StreamDefaultsEnv.shape,
    ...ViewerTokenKeyEnv.shape,
    ...PlaybackKeysRotatorEnv.shape,
    ...SecretsKeyEnv.shape,
  }))();
export type ControlEnv = z.infer<typeof ControlEnv>;

/**
 * Bound by the OperatorEvents construct (decision D44): the operators' Cognito user pool (its issuer URL), whose
 * access tokens the events function accepts as API Gateway's JWT authorizer accepts them on /api/operator. The pool's
 * one app client is not named: its id would close a CloudFormation cycle (distribution -> events URL -> function ->
 * app client -> its callback URLs -> distribution); the pool has exactly that one client (test/infra).
 */
export const OperatorAuthEnv = /* @__PURE__ */ (() =>
  z.object({
    MIRROR_OPERATOR_ISSUER: z
      .string()
      .check(z.regex(/^https:\/\/\S+[^/]$/, 'an https issuer URL without a trailing /')),
  }))();

/** The operator events function (D44): live state (the events channel) and the operators' token issuer. */
export const EventsEnv = /* @__PURE__ */ (() =>
  z.object({
    ...RedisEnv.shape,
    ...StageEnv.shape,
    ...OperatorAuthEnv.shape,
  }))();
export type EventsEnv = z.infer<typeof EventsEnv>;

/** The ingest container. Cross-field rules (a bucket for S3, whole parts per segment) are in its validateEnv. */
export const IngestEnv = /* @__PURE__ */ (() =>
  z.object({
    ...RedisEnv.shape,
    ...RedisTokenEnv.shape,
    ...SecretsKeyEnv.shape,
    ...StorageEnv.shape,
    MIRROR_STORAGE: z._default(StorageEnv.shape.MIRROR_STORAGE, 'local'),
    MIRROR_MEDIA_DIR: z._default(z.string(), '.mirror/media'),
    ...StageEnv.shape,
    ...IngestTaskEnv.shape,
    ...RtpIngestEnv.shape,
    ...IngestClusterEnv.shape,
    ...PackagingEnv.shape,
    ...RecordingEnv.shape,
    ...IngestTuningEnv.shape,
  }))();
export type IngestEnv = z.infer<typeof IngestEnv>;

// Who sets each variable.

/**
 * `aws`: the CDK app binds it on every stage. `aws-when-enabled`: the CDK app binds it only where the stage turns
 * its feature on. `local`: never bound on AWS, where its default applies (or the feature stays off); the embedded
 * default (`npm start`), tests or an operator set it.
 */
export type EnvBinding = 'aws' | 'aws-when-enabled' | 'local';

type ProcessEnvKey = keyof (typeof ManifestEnv.shape &
  typeof SessionEnv.shape &
  typeof ControlEnv.shape &
  typeof IngestEnv.shape &
  typeof EventsEnv.shape);

/** One entry per variable any process reads; the compiler rejects a missing or unknown one. */
export const ENV_BINDING = {
  MIRROR_REDIS_URL: 'aws',
  MIRROR_REDIS_AUTH_SECRET_ARN: 'local',
  MIRROR_REDIS_AUTH_TOKEN: 'local',
  MIRROR_REDIS_USER: 'aws',
  MIRROR_REDIS_IAM_GROUP: 'aws',
  MIRROR_SECRETS_KEY_ARN: 'aws',
  MIRROR_SECRETS_KEY_FILE: 'local',
  MIRROR_REDIS_REPLICATION_GROUP: 'aws',
  MIRROR_STORAGE: 'aws',
  MIRROR_BUCKET: 'aws',
  MIRROR_S3_ENDPOINT: 'local',
  MIRROR_MEDIA_DIR: 'local',
  MIRROR_STAGE: 'aws',
  MIRROR_SESSION_SECRET_ARN: 'aws',
  MIRROR_SESSION_SECRET: 'local',
  MIRROR_VIEWER_TOKEN_SECRET_ARN: 'aws',
  MIRROR_VIEWER_TOKEN_SECRET: 'local',
  MIRROR_ENTITLEMENTS: 'aws-when-enabled',
  MIRROR_DEFAULT_VISIBILITY: 'aws',
  MIRROR_PLAYBACK_PROTECTION: 'aws-when-enabled',
  MIRROR_PLAYBACK_KEYS_SECRET_ARN: 'aws-when-enabled',
  MIRROR_PLAYBACK_KEYS_FUNCTION: 'aws-when-enabled',
  MIRROR_ORIGIN_VERIFY_SECRET_ARN: 'aws',
  MIRROR_ORIGIN_VERIFY_VERSION: 'aws-when-enabled',
  MIRROR_SRT_HOST: 'aws',
  MIRROR_SRT_PORT: 'aws',
  MIRROR_RTP_PORT: 'aws',
  MIRROR_ECS_CLUSTER: 'aws',
  MIRROR_ECS_SERVICE: 'aws',
  MIRROR_MIN_TASKS: 'aws',
  MIRROR_MAX_TASKS: 'aws',
  MIRROR_DISTRIBUTION_ID: 'aws',
  MIRROR_RECORDINGS_BUCKET: 'aws',
  MIRROR_CONTROL_TOKEN: 'local',
  MIRROR_GPU: 'aws',
  MIRROR_NVENC_SESSIONS_PER_GPU: 'aws',
  MIRROR_HEALTH_PORT: 'aws',
  MIRROR_DRAIN_S: 'aws',
  MIRROR_WINDOW_SEGMENTS: 'aws',
  MIRROR_LADDER: 'aws',
  MIRROR_DVR_WINDOW_S: 'aws',
  MIRROR_RECORDING_RETENTION_DAYS: 'aws',
  MIRROR_TASK_ID: 'local',
  MIRROR_CAPACITY: 'local',
  MIRROR_SRT_LATENCY_MS: 'local',
  MIRROR_MAX_BUFFER_MB: 'aws',
  MIRROR_RECONNECT_GRACE_MS: 'local',
  MIRROR_METRICS: 'local',
  MIRROR_GPU_SAMPLE_S: 'local',
  MIRROR_LIVE_TTL_S: 'local',
  MIRROR_OPERATOR_ISSUER: 'aws',
} as const satisfies Record<ProcessEnvKey, EnvBinding>;
export type EnvKey = keyof typeof ENV_BINDING;

/** The keys of a schema's shape that are bound as `binding`. */
export type KeysBoundAs<S, B extends EnvBinding> = {
  [K in keyof S & EnvKey]: (typeof ENV_BINDING)[K] extends B ? K : never;
}[keyof S & EnvKey];

/** The variables of a process (or fragment) schema that are bound as `binding`, in schema order. */
export function keysBoundAs(schema: { readonly shape: z.core.$ZodShape }, binding: EnvBinding): string[] {
  return Object.keys(schema.shape).filter((key) => ENV_BINDING[key as EnvKey] === binding);
}

/** Parses MIRROR_* variables once; a missing or bad one fails at cold start naming the variable. */
export function readEnv<T extends z.ZodMiniType>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`environment variable ${String(issue?.path[0] ?? '?')}: ${issue?.message ?? 'invalid'}`);
}
