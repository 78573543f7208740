import { Logger } from '@aws-lambda-powertools/logger';
import { Redis } from 'ioredis';
import { createSessionApp } from '../session/app.js';
import { sessionOpenApi } from '../session/openapi.js';
import { createControlApp } from './app.js';
import { buildControlOpenApi } from './openapi.js';

/**
 * Both APIs' documents, built from route tables of apps that are never called (the Redis client never
 * connects). File name in docs/ -> document.
 */
export function openApiDocuments(): Record<string, Record<string, unknown>> {
  const redis = new Redis({ lazyConnect: true });
  const logger = new Logger({ serviceName: 'openapi', logLevel: 'SILENT' });
  const control = createControlApp({
    redis,
    logger,
    srt: { host: 'x', port: 1 },
    authenticate: () => undefined,
  });
  const session = createSessionApp({ redis, logger, secret: 'unused' });
  redis.disconnect();
  return {
    'openapi.json': buildControlOpenApi(control.routes),
    'openapi-sessions.json': sessionOpenApi(session.routes),
  };
}
