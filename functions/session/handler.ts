import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/adapters/api-gateway.js';
import { createLogger } from '../../core/adapters/log.js';
import { connectRedis, readEnv, readSecret } from '../../core/adapters/runtime.js';
import { createSessionApp } from './app.js';

const Env = z
  .object({
    MIRROR_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    MIRROR_REDIS_AUTH_SECRET_ARN: z.string().optional(),
    MIRROR_SESSION_SECRET_ARN: z.string().optional(),
    /** Only in the embedded default; on AWS the secret comes from Secrets Manager. */
    MIRROR_SESSION_SECRET: z.string().min(32).optional(),
    MIRROR_PLAYBACK_PROTECTION: z.enum(['on', 'off']).default('off'),
  })
  .refine((e) => e.MIRROR_SESSION_SECRET_ARN || e.MIRROR_SESSION_SECRET, {
    message: 'set MIRROR_SESSION_SECRET_ARN (or MIRROR_SESSION_SECRET locally)',
    path: ['MIRROR_SESSION_SECRET_ARN'],
  });

const env = readEnv(Env);
const logger = createLogger('session');
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN);
const secret = env.MIRROR_SESSION_SECRET_ARN
  ? await readSecret(env.MIRROR_SESSION_SECRET_ARN, 'secret')
  : (env.MIRROR_SESSION_SECRET as string);

const app = createSessionApp({
  redis,
  logger,
  secret,
  playbackProtection: env.MIRROR_PLAYBACK_PROTECTION === 'on',
});

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  return toApiGatewayResult(await app.handle(fromApiGatewayEvent(event)));
}
