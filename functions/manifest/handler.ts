import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../core/adapters/api-gateway.js';
import { lazyClient, loadS3 } from '../../core/adapters/aws-sdk.js';
import { EmfMetrics, MetricUnit } from '../../core/adapters/emf.js';
import { createJsonLogger } from '../../core/adapters/json-logger.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { S3Storage } from '../../core/adapters/storage/s3.js';
import { ManifestEnv, readEnv } from '../../core/contracts/env.js';
import {
  METRIC_DIMENSION_STAGE,
  METRIC_NAMESPACE,
  MetricNames,
  MetricServices,
} from '../../core/metric-names.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { createManifestApp, manifestDepsFromRedis, type RequestOutcome } from './app.js';

const env = readEnv(ManifestEnv, process.env);
const logger = createJsonLogger('manifest');
// Playlists never read storage, only a hinted part does: the S3 package is loaded on the first part request, not at
// cold start (D26, amended), and a playlist-only instance never loads it.
const s3Options = env.MIRROR_S3_ENDPOINT ? { endpoint: env.MIRROR_S3_ENDPOINT, forcePathStyle: true } : {};
const storage: MediaStorage =
  env.MIRROR_STORAGE === 's3'
    ? new S3Storage(
        lazyClient(loadS3, (sdk) => new sdk.S3Client(s3Options)),
        env.MIRROR_BUCKET!,
      )
    : new LocalDiskStorage(env.MIRROR_MEDIA_DIR!);
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger, env);

// Embedded metric format on stdout; Lambda ships it to CloudWatch Logs, which extracts the metrics the dashboard reads.
// Powertools Metrics' lines without loading Powertools at cold start (D34).
const metrics = new EmfMetrics({
  namespace: METRIC_NAMESPACE,
  serviceName: MetricServices.manifest,
  defaultDimensions: { [METRIC_DIMENSION_STAGE]: env.MIRROR_STAGE },
});
const names = MetricNames.manifest;
function observe(outcome: RequestOutcome): void {
  if (outcome.kind === 'playlist') {
    metrics.addMetric(names.playlistLatencyMs, MetricUnit.Milliseconds, outcome.latencyMs);
  }
  if (outcome.waitMs !== undefined) {
    metrics.addMetric(names.blockingWaitMs, MetricUnit.Milliseconds, outcome.waitMs);
  }
  if (outcome.timedOut) metrics.addMetric(names.blockingTimeouts, MetricUnit.Count, 1);
}

const app = createManifestApp({ ...manifestDepsFromRedis(redis, storage), logger, observe });

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  try {
    return toApiGatewayResult(await app.handle(fromApiGatewayEvent(event)));
  } finally {
    // One invocation at a time per instance: flush what this request recorded (nothing for a plain media hit).
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
