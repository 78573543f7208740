import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/adapters/api-gateway.js';
import { lazyClient, loadCloudFront, loadEcs, loadElastiCache } from '../../core/adapters/aws-sdk.js';
import { createLogger } from '../../core/adapters/log.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import { ControlEnv, readEnv } from '../../core/contracts/env.js';
import type { HttpRequest } from '../../core/http.js';
import { bearerAuthenticator, createControlApp } from './app.js';
import { type AuthorizerContext, type AwsCaller, awsCaller, operatorLocation } from './aws-caller.js';
import { CloudFrontInvalidation, EcsIngestScaling, ElastiCacheLiveStateCluster } from './aws-ports.js';

const env = readEnv(ControlEnv, process.env);
const logger = createLogger('control');
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger);
const localAuth = env.MIRROR_CONTROL_TOKEN ? bearerAuthenticator(env.MIRROR_CONTROL_TOKEN) : undefined;

// The principal comes from API Gateway's authorizer (IAM or JWT), never from a client header. Keyed by the
// request object, so overlapping invocations (the local harnesses run several at once) cannot mix callers.
const callers = new WeakMap<HttpRequest, AwsCaller>();

// The AWS clients are built on the first operator call that needs one, not at cold start (aws-ports.ts, D26).
const app = createControlApp({
  redis,
  logger,
  srt: { host: env.MIRROR_SRT_HOST, port: env.MIRROR_SRT_PORT },
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
