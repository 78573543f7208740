import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import {
  fromApiGatewayEvent,
  refuseUnlessFromCloudFront,
  toApiGatewayResult,
} from '../../core/adapters/api-gateway.js';
import { createJsonLogger } from '../../core/adapters/json-logger.js';
import { connectRedis, readSecret } from '../../core/adapters/runtime.js';
import { readEnv, SessionEnv } from '../../core/contracts/env.js';
import { acceptedOriginValues } from '../../core/contracts/origin-verify.js';
import { createSessionApp } from './app.js';
import { entitlementVerifierFromEnv } from './entitlements.js';
import { ringSigner } from './playback-signer.js';

const env = readEnv(SessionEnv, process.env);
const logger = createJsonLogger('session');
// Viewer entitlements (D36): Mirror's own key (a secret read alongside the others) and the keys the stage trusts.
const entitlements = entitlementVerifierFromEnv(env, (arn) => readSecret(arn));
// Playback protection: the key ring the deployment keeps (D37); SessionEnv requires its ARN when protection is on.
// Started before the other reads, so every secret of the cold start is fetched at once.
const keysArn = env.MIRROR_PLAYBACK_KEYS_SECRET_ARN;
const playbackSigner =
  env.MIRROR_PLAYBACK_PROTECTION === 'on' && keysArn
    ? ringSigner(
        () => readSecret(keysArn),
        Date.now,
        (error) => logger.warn('playback key ring re-read failed; signing with the ring held', { error }),
      )
    : undefined;
// The secrets at once: each read is a round trip to Secrets Manager inside the cold start.
const [redis, secret, fromCloudFront] = await Promise.all([
  connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger, env),
  env.MIRROR_SESSION_SECRET_ARN
    ? readSecret(env.MIRROR_SESSION_SECRET_ARN, 'secret')
    : (env.MIRROR_SESSION_SECRET as string),
  // The values CloudFront's origin header may carry (D39); no ARN (the embedded default) means no check.
  env.MIRROR_ORIGIN_VERIFY_SECRET_ARN
    ? readSecret(env.MIRROR_ORIGIN_VERIFY_SECRET_ARN).then(acceptedOriginValues)
    : undefined,
]);

const app = createSessionApp({
  redis,
  logger,
  secret,
  playbackSigner: await playbackSigner,
  verifyEntitlement: await entitlements,
});

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  // Before any work: a request that bypassed CloudFront could forge the viewer address the rate limit counts.
  const refused = refuseUnlessFromCloudFront(event, fromCloudFront);
  if (refused) return refused;
  return toApiGatewayResult(await app.handle(fromApiGatewayEvent(event)));
}
