import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/adapters/api-gateway.js';
import { createLogger } from '../../core/adapters/log.js';
import { connectRedis, readSecret } from '../../core/adapters/runtime.js';
import { readEnv, SessionEnv } from '../../core/contracts/env.js';
import { createSessionApp } from './app.js';

const env = readEnv(SessionEnv, process.env);
const logger = createLogger('session');
// Both secrets at once: each read is a round trip to Secrets Manager inside the cold start.
const [redis, secret] = await Promise.all([
  connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger),
  env.MIRROR_SESSION_SECRET_ARN
    ? readSecret(env.MIRROR_SESSION_SECRET_ARN, 'secret')
    : (env.MIRROR_SESSION_SECRET as string),
]);

const app = createSessionApp({
  redis,
  logger,
  secret,
  playbackProtection: env.MIRROR_PLAYBACK_PROTECTION === 'on',
});

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  return toApiGatewayResult(await app.handle(fromApiGatewayEvent(event)));
}
