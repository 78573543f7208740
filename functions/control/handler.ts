import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/adapters/api-gateway.js';
import {
  lazyClient,
  loadCloudFront,
  loadEcs,
  loadElastiCache,
  loadLambda,
  loadS3,
} from '../../core/adapters/aws-sdk.js';
import { createJsonLogger } from '../../core/adapters/json-logger.js';
import { LambdaKeyRotator } from '../../core/adapters/playback-keys.js';
import { connectRedis, readSecret } from '../../core/adapters/runtime.js';
import { S3RecordingObjects } from '../../core/adapters/storage/s3-recordings.js';
import { dataKeysFromEnv } from '../../core/adapters/streams/data-keys.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import { ControlEnv, readEnv } from '../../core/contracts/env.js';
import type { HttpRequest } from '../../core/http.js';
import { bearerAuthenticator, createControlApp } from './app.js';
import { type AuthorizerContext, type AwsCaller, awsCaller, operatorLocation } from './aws-caller.js';
import { CloudFrontInvalidation, EcsIngestScaling, ElastiCacheLiveStateCluster } from './aws-ports.js';

const env = readEnv(ControlEnv, process.env);
const logger = createJsonLogger('control');
// Mirror's entitlement key (D36), read while Redis connects: /api/control/viewer-tokens mints with it; the session
// function holds its public half.
const viewerTokenRead = env.MIRROR_VIEWER_TOKEN_SECRET_ARN
  ? readSecret(env.MIRROR_VIEWER_TOKEN_SECRET_ARN)
  : env.MIRROR_VIEWER_TOKEN_SECRET;
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger, env);
// Seals new SRT passphrases (KMS GenerateDataKey, D38); in the background, moves any record written before D38 to
// the split form (idempotent: a scan of the index, nothing written when none is left).
const keys = dataKeysFromEnv(env);
new StreamRegistry(redis, undefined, { keys })
  .migrateLegacySecrets()
  .then((moved) => moved > 0 && logger.info('stream secrets moved out of their records', { moved }))
  .catch((error: unknown) => logger.warn('stream secrets not migrated', { error: String(error) }));
const viewerTokenSecret = await viewerTokenRead;
const localAuth = env.MIRROR_CONTROL_TOKEN ? bearerAuthenticator(env.MIRROR_CONTROL_TOKEN) : undefined;

// The principal comes from API Gateway's authorizer (IAM or JWT), never from a client header. Keyed by the
// request object, so overlapping invocations (the local harnesses run several at once) cannot mix callers.
const callers = new WeakMap<HttpRequest, AwsCaller>();

// The AWS clients are built on the first operator call that needs one, not at cold start (aws-ports.ts, D26).
const app = createControlApp({
  redis,
  logger,
  srt: { host: env.MIRROR_SRT_HOST, port: env.MIRROR_SRT_PORT },
  rtpPort: env.MIRROR_RTP_PORT,
  defaultVisibility: env.MIRROR_DEFAULT_VISIBILITY,
  keys,
  viewerTokenKey: viewerTokenSecret ? mirrorSigningKey(viewerTokenSecret) : undefined,
  // Operator paths take the JWT principal only; the local bearer token applies to /api/control alone.
  authenticate: (request) => {
    const caller = callers.get(request);
    return caller?.viaOperator ? caller.principal : (caller?.principal ?? localAuth?.(request));
  },
  scaling:
    env.MIRROR_ECS_CLUSTER && env.MIRROR_ECS_SERVICE
      ? new EcsIngestScaling(
          lazyClient(loadEcs, (sdk) => new sdk.ECSClient({})),
          {
            cluster: env.MIRROR_ECS_CLUSTER,
            service: env.MIRROR_ECS_SERVICE,
            minTasks: env.MIRROR_MIN_TASKS,
            maxTasks: env.MIRROR_MAX_TASKS,
          },
        )
      : undefined,
  invalidation: env.MIRROR_DISTRIBUTION_ID
    ? new CloudFrontInvalidation(
        lazyClient(loadCloudFront, (sdk) => new sdk.CloudFrontClient({})),
        env.MIRROR_DISTRIBUTION_ID,
      )
    : undefined,
  // Recordings' delete (D40): reads their playlists and DeleteObjects in the media bucket.
  recordings: env.MIRROR_RECORDINGS_BUCKET
    ? new S3RecordingObjects(
        lazyClient(loadS3, (sdk) => new sdk.S3Client({})),
        env.MIRROR_RECORDINGS_BUCKET,
      )
    : undefined,
  // The PlaybackKeys function rotates (it alone may write the key ring and the KeyValueStore, D37).
  playbackKeys: env.MIRROR_PLAYBACK_KEYS_FUNCTION
    ? new LambdaKeyRotator(
        lazyClient(loadLambda, (sdk) => new sdk.LambdaClient({})),
        env.MIRROR_PLAYBACK_KEYS_FUNCTION,
      )
    : undefined,
  liveStateCluster: env.MIRROR_REDIS_REPLICATION_GROUP
    ? new ElastiCacheLiveStateCluster(
        lazyClient(loadElastiCache, (sdk) => new sdk.ElastiCacheClient({})),
        env.MIRROR_REDIS_REPLICATION_GROUP,
      )
    : undefined,
});

export async function handler(
  event: APIGatewayProxyEventV2WithIAMAuthorizer | APIGatewayProxyEventV2WithJWTAuthorizer,
): Promise<APIGatewayProxyResultV2> {
  const received = fromApiGatewayEvent(event);
  const caller = awsCaller(received.path, event.requestContext.authorizer as AuthorizerContext | undefined);
  const request: HttpRequest = { ...received, path: caller.path };
  callers.set(request, caller);
  const response = await app.handle(request);
  const location = response.headers.location;
  if (caller.viaOperator && location !== undefined) {
    return toApiGatewayResult({
      ...response,
      headers: { ...response.headers, location: operatorLocation(location) },
    });
  }
  return toApiGatewayResult(response);
}
