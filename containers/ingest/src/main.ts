// The ingest container's entry point: `node --import tsx containers/ingest/src/main.ts` (or the bundled main.js).
import { createLogger } from '../../../core/adapters/log.js';
import { createRedisClient, logRedisOutages } from '../../../core/adapters/redis.js';
import { redisPassword } from '../../../core/adapters/runtime.js';
import { dataKeysFromEnv } from '../../../core/adapters/streams/data-keys.js';
import { readEnv } from '../../../core/contracts/env.js';
import { capacityOf, IngestEnv, resolveTaskId, validateEnv } from './config.js';
import { startDeploymentWatch } from './deployment-watch.js';
import { TaskProtection } from './ecs-protection.js';
import { emfMetrics } from './metrics.js';
import { PartLatencies } from './service/part-latency.js';
import { startIngestService } from './service.js';
import { createMediaStorage, createPackagerSinks } from './sinks.js';
import { thumbnailSinks } from './thumbnails.js';

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
// The ingest's own Redis user (D38): an IAM token on AWS, signed afresh at each (re)connection.
const password = env.MIRROR_REDIS_AUTH_TOKEN ?? (await redisPassword(env, env.MIRROR_REDIS_AUTH_SECRET_ARN));
// Connect/command timeouts, bounded retries and READONLY reconnects (after a failover) from the shared options;
// the service's subscriber duplicates them. An outage is logged once, not at every reconnection attempt.
const redis = createRedisClient(env.MIRROR_REDIS_URL, {
  username: env.MIRROR_REDIS_USER,
  password,
  connectionName: `ingest:${taskId}`,
});
logRedisOutages(redis, log, 'commands');

const protection = TaskProtection.fromEnvironment(log);
const metrics = env.MIRROR_METRICS === 'emf' ? emfMetrics(env.MIRROR_STAGE, taskId) : undefined;
// Each part's publish latency goes to the metric and to the stream's status (the operator's latency column).
const partLatencies = new PartLatencies();
// One storage client for the packager, the recorder and the thumbnails (decisions D33, D40, D41).
const storage = createMediaStorage(env);
const service = await startIngestService({
  redis,
  secretKeys: dataKeysFromEnv(env),
  taskId,
  sinks: createPackagerSinks(env, storage, redis, logger, {
    packagerEvent: metrics?.packagerEvent,
    partPublished: (part) => {
      metrics?.partPublished(part);
      partLatencies.record(part);
    },
  }),
  // Each live stream's thumbnails, from its own ffmpeg (decision D41).
  thumbnails: thumbnailSinks(storage, log),
  partLatencies,
  srtPort: env.MIRROR_SRT_PORT,
  // MPEG-TS over RTP/SRTP for the streams created with protocol rtp (decision D45).
  rtpPort: env.MIRROR_RTP_PORT,
  healthPort: env.MIRROR_HEALTH_PORT,
  gpuMode: env.MIRROR_GPU,
  defaultLadder: env.MIRROR_LADDER,
  capacity: capacityOf(env),
  srtLatencyMs: env.MIRROR_SRT_LATENCY_MS,
  maxBufferBytes: env.MIRROR_MAX_BUFFER_MB * 1024 * 1024,
  reconnectGraceMs: env.MIRROR_RECONNECT_GRACE_MS,
  logger: log,
  metrics,
  gpuSampleIntervalMs: env.MIRROR_GPU_SAMPLE_S * 1000,
  onActiveStreams: (n) => protection?.update(n),
});

// Drain within MIRROR_DRAIN_S, the container's stop timeout: new publishers are refused at once; connected ones stay
// until another task has room for them or the window is nearly over (service/drain.ts); then exit 0. Started by
// SIGTERM (ECS stop, after the NLB deregistration delay), or by the deployment watch when a deployment replaced this
// task and ECS did not stop it (deployment-watch.ts); whichever comes first, the other joins it.
let draining = false;
function drainAndExit(cause: string): void {
  if (draining) return;
  draining = true;
  watch?.stop();
  logger.info('draining', { cause, seconds: env.MIRROR_DRAIN_S });
  const deadline = setTimeout(() => {
    logger.error('drain timed out', { seconds: env.MIRROR_DRAIN_S });
    process.exit(1);
  }, env.MIRROR_DRAIN_S * 1000);
  service
    .drain({ windowMs: env.MIRROR_DRAIN_S * 1000 })
    .then(async () => {
      await protection?.clear();
      redis.disconnect();
      clearTimeout(deadline);
      process.exit(0);
    })
    .catch((error: unknown) => {
      logger.error('drain failed', { error: String(error) });
      process.exit(1);
    });
}

// On ECS only: protection keeps a publishing task through deployments, so the task notices itself when one has
// replaced it and releases its protection, which lets ECS stop it (the SIGTERM below); it drains by itself if ECS
// does not (decision D20).
const watch = startDeploymentWatch(env, { protection, drain: drainAndExit, log });

// A second signal stops at once (a drain the deployment watch started does not count as the first).
let signalled = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (signalled) {
      logger.warn('second signal: stopping now', { signal });
      void service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
      return;
    }
    signalled = true;
    logger.info('signal: draining', { signal, seconds: env.MIRROR_DRAIN_S });
    drainAndExit(`signal ${signal}`);
  });
}
