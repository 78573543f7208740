import { shippedOpenApiDocument } from '../../core/adapters/openapi-document.js';
import { redisFailure } from '../../core/adapters/redis-policy.js';
import { BURST, RATE_PER_SECOND, RateLimiter } from '../../core/adapters/sessions/ratelimit.js';
import { openApiRoute } from '../../core/api/openapi.js';
import {
  type AnyRoute,
  ApiError,
  createRouter,
  respondError,
  respondToFailure,
} from '../../core/api/router.js';
import type { EntitlementVerifier } from '../../core/auth/keys.js';
import { rateLimitSubject, VIEWER_ADDRESS_HEADER, viewerIp } from '../../core/contracts/viewer-address.js';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import type { Logger } from '../../core/logger.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { sessionContext } from './context.js';
import type { PlaybackSigner } from './respond.js';
import { createSessionRoute, endSessionRoute, getSessionRoute } from './routes/sessions.js';
import { entitledStreamsRoute, publicStreamsRoute } from './routes/streams.js';
import { updateRoutes } from './routes/updates.js';

export interface SessionDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  /** HMAC secret for session tokens (Secrets Manager on AWS). */
  readonly secret: string;
  /** Playback protection on: sign playback tokens (cookies + body) with the key ring's signing key (D37). */
  readonly playbackSigner?: PlaybackSigner;
  /** Checks viewer entitlements for private streams (core/auth/keys.ts); absent, none is accepted (D36). */
  readonly verifyEntitlement?: EntitlementVerifier;
  /** Requests per second and burst per IP; RATE_PER_SECOND and BURST (100/200) by default. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly now?: () => number;
}

/**
 * Whose bucket a request takes from (D27): the viewer address the edge set (CloudFront, or the local edge, each
 * replacing what the client sent), else the connection's source (a caller reaching the API without the edge).
 * Never X-Forwarded-For: its first entries are whatever the client wrote.
 */
export function limitedAddress(request: Pick<HttpRequest, 'headers' | 'sourceIp'>): string {
  return rateLimitSubject(viewerIp(request.headers[VIEWER_ADDRESS_HEADER]) ?? request.sourceIp ?? 'unknown');
}

export function createSessionApp(deps: SessionDeps): HttpApp & { readonly routes: readonly AnyRoute[] } {
  const context = sessionContext({ ...deps, now: deps.now ?? Date.now });
  const routes: AnyRoute[] = [
    openApiRoute(
      { path: '/api/sessions/openapi.json', operationId: 'getSessionOpenApi' },
      // Bundled for Lambda the generator is dead code (FUNCTION_BUNDLING defines the variable): the shipped document.
      process.env.MIRROR_OPENAPI_DOCUMENT
        ? shippedOpenApiDocument(process.env.MIRROR_OPENAPI_DOCUMENT)
        : async () => (await import('./openapi.js')).sessionOpenApi(routes),
    ),
    publicStreamsRoute(context),
    entitledStreamsRoute(context),
    createSessionRoute(context),
    getSessionRoute(context),
    ...updateRoutes(context),
    endSessionRoute(context),
  ];
  const router = createRouter(routes);
  const limiter = new RateLimiter(
    deps.redis,
    deps.rateLimit?.perSecond ?? RATE_PER_SECOND,
    deps.rateLimit?.burst ?? BURST,
  );
  const rateLimited = async (request: HttpRequest): Promise<HttpResponse | undefined> => {
    const decision = await limiter.take(limitedAddress(request));
    if (decision.allowed) return undefined;
    const retryAfterS = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return respondError(
      new ApiError(429, 'rate_limited', 'too many requests from this address; retry later', 'sourceIp', {
        'retry-after': String(retryAfterS),
      }),
    );
  };
  return {
    routes,
    async handle(request) {
      try {
        return (await rateLimited(request)) ?? (await router.dispatch(request, async () => 'viewer'));
      } catch (error) {
        // Redis unreachable or failing over: 503 with Retry-After (the player retries), never a 500.
        return respondToFailure(redisFailure(error), (errorName) =>
          deps.logger.error('session call failed', { errorName }),
        );
      }
    },
  };
}
