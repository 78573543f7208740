import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { connectRedis, readEnv } from '../../core/api/runtime.js';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/http.js';
import { createLogger } from '../../core/log.js';
import { LocalDiskStorage, type MediaStorage, S3Storage } from '../../core/storage/index.js';
import { createManifestApp, manifestDepsFromRedis } from './app.js';

const Env = z
  .object({
    MIRROR_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    MIRROR_REDIS_AUTH_SECRET_ARN: z.string().optional(),
    MIRROR_STORAGE: z.enum(['s3', 'local']).default('s3'),
    MIRROR_BUCKET: z.string().optional(),
    MIRROR_S3_ENDPOINT: z.string().url().optional(),
    MIRROR_MEDIA_DIR: z.string().optional(),
  })
  .refine((e) => e.MIRROR_STORAGE !== 's3' || e.MIRROR_BUCKET !== undefined, {
    path: ['MIRROR_BUCKET'],
    message: 'required when MIRROR_STORAGE=s3',
  })
  .refine((e) => e.MIRROR_STORAGE !== 'local' || e.MIRROR_MEDIA_DIR !== undefined, {
    path: ['MIRROR_MEDIA_DIR'],
    message: 'required when MIRROR_STORAGE=local',
  });

const env = readEnv(Env);
const logger = createLogger('manifest');
const storage: MediaStorage =
  env.MIRROR_STORAGE === 's3'
    ? new S3Storage(
        new S3Client(
          env.MIRROR_S3_ENDPOINT ? { endpoint: env.MIRROR_S3_ENDPOINT, forcePathStyle: true } : {},
        ),
        env.MIRROR_BUCKET!,
      )
    : new LocalDiskStorage(env.MIRROR_MEDIA_DIR!);
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN);
const app = createManifestApp({ ...manifestDepsFromRedis(redis, storage), logger });

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  return toApiGatewayResult(await app.handle(fromApiGatewayEvent(event)));
}
