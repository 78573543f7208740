// The ingest container's entry point: `node --import tsx containers/ingest/src/main.ts` (or the bundled main.js).
import { Redis } from 'ioredis';
import { createLogger } from '../../../core/adapters/log.js';
import { readSecret } from '../../../core/adapters/runtime.js';
import { readEnv } from '../../../core/contracts/env.js';
import { capacityOf, IngestEnv, resolveTaskId, validateEnv } from './config.js';
import { TaskProtection } from './ecs-protection.js';
import { emfMetrics } from './metrics.js';
import { startIngestService } from './service.js';
import { createPackagerSinks } from './sinks.js';

const logger = createLogger('ingest');
/** The service's logger shape over Powertools (which types its extra arguments as a tuple). */
const log = {
  info: (message: string, extra: Record<string, unknown> = {}) => logger.info(message, extra),
  warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
  error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
};
const env = readEnv(IngestEnv, process.env);
validateEnv(env);
const taskId = await resolveTaskId(env);
const password =
  env.MIRROR_REDIS_AUTH_TOKEN ??
  (env.MIRROR_REDIS_AUTH_SECRET_ARN
    ? await readSecret(env.MIRROR_REDIS_AUTH_SECRET_ARN, 'password')
    : undefined);
const redis = new Redis(env.MIRROR_REDIS_URL, { password, maxRetriesPerRequest: 2 });
redis.on('error', (error: Error) => logger.warn('Redis error', { error: error.message }));

const protection = TaskProtection.fromEnvironment(logger);
const metrics = env.MIRROR_METRICS === 'emf' ? emfMetrics(env.MIRROR_STAGE, taskId) : undefined;
const service = await startIngestService({
  redis,
  taskId,
  sinks: createPackagerSinks(env, redis, logger, metrics?.partPublished),
  srtPort: env.MIRROR_SRT_PORT,
  healthPort: env.MIRROR_HEALTH_PORT,
  gpuMode: env.MIRROR_GPU,
  defaultLadder: env.MIRROR_LADDER,
  partTargetMs: env.MIRROR_PART_TARGET_MS,
  segmentTargetMs: env.MIRROR_SEGMENT_TARGET_MS,
  capacity: capacityOf(env),
  srtLatencyMs: env.MIRROR_SRT_LATENCY_MS,
  maxBufferBytes: env.MIRROR_MAX_BUFFER_MB * 1024 * 1024,
  reconnectGraceMs: env.MIRROR_RECONNECT_GRACE_MS,
  logger: log,
  metrics,
  gpuSampleIntervalMs: env.MIRROR_GPU_SAMPLE_S * 1000,
  onActiveStreams: (n) => protection?.set(n > 0),
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal });
    const deadline = setTimeout(() => {
      logger.error('drain timed out', { seconds: env.MIRROR_DRAIN_S });
      process.exit(1);
    }, env.MIRROR_DRAIN_S * 1000);
    service
      .stop()
      .then(async () => {
        await protection?.set(false);
        redis.disconnect();
        clearTimeout(deadline);
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error('drain failed', { error: String(error) });
        process.exit(1);
      });
  });
}
