import { timingSafeEqual } from 'node:crypto';
import { shippedOpenApiDocument } from '../../core/adapters/openapi-document.js';
import { redisFailure } from '../../core/adapters/redis-policy.js';
import type { SrtEndpoint } from '../../core/adapters/streams/registry.js';
import { openApiRoute } from '../../core/api/openapi.js';
import {
  type AnyRoute,
  ApiError,
  createRouter,
  errorName,
  respondToFailure,
  toApiError,
} from '../../core/api/router.js';
import type { mirrorSigningKey } from '../../core/auth/keys.js';
import type { HttpApp, HttpRequest } from '../../core/http.js';
import type { Logger } from '../../core/logger.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import type { Visibility } from '../../core/streams/schema.js';
import type { DataKeyProvider } from '../../core/streams/secrets.js';
import { controlContext } from './context.js';
import type { EdgeInvalidation, IngestScaling, LiveStateCluster } from './ports.js';
import { auditRoutes } from './routes/audit.js';
import { cacheRoutes } from './routes/cache.js';
import { ingestRoutes } from './routes/ingest.js';
import { keyRoutes } from './routes/keys.js';
import { type PlaybackKeyRotator, playbackKeyRoutes } from './routes/playback-keys.js';
import { type RecordingObjects, recordingRoutes } from './routes/recordings.js';
import { redisRoutes } from './routes/redis.js';
import { streamControlRoutes } from './routes/stream-control.js';
import { streamRoutes } from './routes/streams.js';
import { viewerTokenRoutes } from './routes/viewer-tokens.js';

export interface ControlDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  /** The SRT listener encoders call (NLB name on AWS, the local ingest port in the embedded default). */
  readonly srt: SrtEndpoint;
  /** The RTP port on the same host (decision D46); DEFAULT_RTP_PORT when absent. */
  readonly rtpPort?: number;
  /**
   * Who is calling, or undefined to refuse with 401. On AWS, API Gateway's IAM authorization has already
   * run and the handler passes the caller's ARN; locally a bearer token is compared.
   */
  readonly authenticate: (request: HttpRequest) => string | undefined;
  /** The ingest ECS service; absent in the embedded default (scaling then answers 409 not_configured). */
  readonly scaling?: IngestScaling;
  /** The CloudFront distribution; absent in the embedded default (invalidation then answers 409). */
  readonly invalidation?: EdgeInvalidation;
  /** The live state's ElastiCache replication group; absent in the embedded default (its routes answer 404). */
  readonly liveStateCluster?: LiveStateCluster;
  /** Visibility of a stream created without one (the stage's, decision D36); `public` by default. */
  readonly defaultVisibility?: Visibility;
  /** Mirror's entitlement key (core/auth/keys.ts); absent, `/api/control/viewer-tokens` answers 409. */
  readonly viewerTokenKey?: ReturnType<typeof mirrorSigningKey>;
  /** Seals new SRT passphrases (decision D38): KMS GenerateDataKey on AWS, the local key file in the embedded default. */
  readonly keys?: DataKeyProvider;
  /** Rotates the playback keys (D37); absent where playback protection is off (its routes answer 409). */
  readonly playbackKeys?: PlaybackKeyRotator;
  /** Recordings' media objects (D40); absent, deleting a recording answers 409 not_configured. */
  readonly recordings?: RecordingObjects;
  readonly now?: () => Date;
}

/** Bearer-token authentication for the embedded default (constant-time comparison). */
export function bearerAuthenticator(token: string, principal = 'local-operator') {
  const expected = Buffer.from(`Bearer ${token}`);
  return (request: HttpRequest): string | undefined => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected) ? principal : undefined;
  };
}

export function createControlApp(deps: ControlDeps): HttpApp & { readonly routes: readonly AnyRoute[] } {
  const context = controlContext(deps);
  const routes: AnyRoute[] = [
    openApiRoute(
      { path: '/api/control/openapi.json', operationId: 'getOpenApi', public: true },
      // Bundled for Lambda the generator is dead code (FUNCTION_BUNDLING defines the variable): the shipped document.
      process.env.MIRROR_OPENAPI_DOCUMENT
        ? shippedOpenApiDocument(process.env.MIRROR_OPENAPI_DOCUMENT)
        : async () => (await import('./openapi.js')).buildControlOpenApi(routes),
    ),
    ...streamRoutes(context, deps.defaultVisibility),
    ...viewerTokenRoutes(context, deps.viewerTokenKey, deps.now ?? (() => new Date())),
    ...streamControlRoutes(context),
    ...keyRoutes(context),
    ...cacheRoutes(context, deps.invalidation),
    ...ingestRoutes(context, deps.scaling),
    ...redisRoutes(context, deps.liveStateCluster),
    ...playbackKeyRoutes(context, deps.playbackKeys),
    ...auditRoutes(context),
    ...recordingRoutes(context, deps.redis, deps.recordings, deps.invalidation),
  ];
  const router = createRouter(routes);
  const principalOf = async (route: AnyRoute, request: HttpRequest) => {
    if (route.public) return 'anonymous';
    const principal = deps.authenticate(request);
    if (principal === undefined) {
      throw new ApiError(401, 'unauthorized', 'a valid operator credential is required', 'authorization', {
        'www-authenticate': 'Bearer',
      });
    }
    return principal;
  };
  return {
    routes,
    async handle(request) {
      try {
        return await router.dispatch(request, (route) => principalOf(route, request));
      } catch (thrown) {
        // Redis unreachable or failing over becomes a typed 503 with Retry-After, never a 500.
        const error = redisFailure(thrown);
        if ((toApiError(error)?.status ?? 0) >= 500) {
          deps.logger.warn('upstream call failed', { errorName: errorName(upstreamCause(error)) });
        }
        return respondToFailure(error, (name) =>
          deps.logger.error('control call failed', { path: request.path.slice(0, 200), errorName: name }),
        );
      }
    },
  };
}

/** The AWS error behind an upstream failure, whose name says what was refused. */
function upstreamCause(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}
