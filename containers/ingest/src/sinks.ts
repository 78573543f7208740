import type { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { LiveState } from '../../../core/adapters/live/live-state.js';
import { RedisPartStore } from '../../../core/adapters/live/part-store.js';
import { LocalDiskStorage } from '../../../core/adapters/storage/local.js';
import { S3Storage } from '../../../core/adapters/storage/s3.js';
import { DEFAULT_LATENCY_PROFILE, PROFILE_TARGETS } from '../../../core/latency-profiles.js';
import type { RenditionSinkFactory } from '../../../core/media/rendition-sink.js';
import { Packager, type PackagerOptions } from '../../../core/packager/index.js';
import type { MediaStorage } from '../../../core/storage/index.js';
import type { IngestEnv } from './config.js';
import { DvrSinks } from './dvr/dvr-sinks.js';
import { RecordingSinks, recordFlagFromRedis } from './recording/recorder.js';

/** What the metrics take from the packager: each part's publish latency, and storage and publish failures. */
export interface PackagerMetrics {
  readonly partPublished?: PackagerOptions['onPublish'];
  readonly packagerEvent?: PackagerOptions['onEvent'];
}

/** The stage's media storage (S3 or disk): the packager's and the thumbnails' (decision D41). */
export function createMediaStorage(env: IngestEnv): MediaStorage {
  return env.MIRROR_STORAGE === 's3'
    ? new S3Storage(
        new S3Client({ endpoint: env.MIRROR_S3_ENDPOINT, forcePathStyle: Boolean(env.MIRROR_S3_ENDPOINT) }),
        env.MIRROR_BUCKET!,
      )
    : new LocalDiskStorage(env.MIRROR_MEDIA_DIR);
}

/**
 * The one place the ingest service meets the LL-HLS packager: storage + live state -> RenditionSinkFactory (whose
 * storage() reports each rendition's storage health to the status). Puts to S3 carry a deadline (decision D21).
 */
export function createPackagerSinks(
  env: IngestEnv,
  storage: MediaStorage,
  redis: Redis,
  logger: Logger,
  metrics: PackagerMetrics = {},
): RenditionSinkFactory {
  const packager = new Packager({
    storage,
    live: new LiveState(redis, env.MIRROR_LIVE_TTL_S),
    // Parts in the live state's Redis, segments in storage (decision D33).
    parts: new RedisPartStore(redis),
    // Only for a rendition opened without its own targets: the pipeline gives each its stream's profile (D28).
    partTargetMs: PROFILE_TARGETS[DEFAULT_LATENCY_PROFILE].partMs,
    segmentTargetMs: PROFILE_TARGETS[DEFAULT_LATENCY_PROFILE].segmentMs,
    windowSegments: env.MIRROR_WINDOW_SEGMENTS,
    logger,
    onPublish: metrics.partPublished,
    onEvent: metrics.packagerEvent,
  });
  // The DVR time-shift window of long segments, whatever the record flag (decision D43).
  const dvr = new DvrSinks(packager, { storage, logger, windowS: env.MIRROR_DVR_WINDOW_S });
  // Every broadcast is also recorded, in chunks of 1 MB or more (decision D40).
  return new RecordingSinks(dvr, {
    storage,
    redis,
    logger,
    // media.recordingRetentionDays, as the bucket's lifecycle: entries and objects expire together.
    retentionDays: env.MIRROR_RECORDING_RETENTION_DAYS,
    records: recordFlagFromRedis(redis),
  });
}
