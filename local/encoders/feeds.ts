import type { Redis } from 'ioredis';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { RedisPartStore } from '../../core/adapters/live/part-store.js';
import { createLogger } from '../../core/adapters/log.js';
import { TILE_RUNG } from '../../core/ladder.js';
import { Packager } from '../../core/packager/index.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { DirectFeed } from './direct.js';
import { SyntheticEncoder } from './encoder.js';

/** A synthetic camera's ffmpeg, as the platform starts, stops and reports it. */
export interface Feed {
  /** The running ffmpeg's pid, if any (for checks that nothing is left running). */
  readonly pid: number | undefined;
  /** Only feeds that restart on their own (the SRT encoder) count restarts for the status line. */
  readonly state?: { readonly restarts: number };
  start(): void;
  stop(): Promise<void>;
}

/** Makes one camera's feed from its stream id, its clip and the SRT URL (with key) it would push to. */
export type FeedFactory = (streamId: string, clipFile: string, srtUrl: string) => Feed;

/** The real path: ffmpeg pushes the clip over SRT to the ingest service. */
export const srtFeeds: FeedFactory = (streamId, clipFile, srtUrl) =>
  new SyntheticEncoder(streamId, clipFile, srtUrl);

/**
 * `direct`: ffmpeg transcodes the clip to the tile rung straight into one in-process packager writing the
 * platform's media storage (the local directory or s3rver) and Redis, skipping SRT and the ingest service.
 */
export function directFeeds(
  redis: Redis,
  storage: MediaStorage,
  targets: { readonly partTargetMs: number; readonly segmentTargetMs: number },
): FeedFactory {
  const packager = new Packager({
    storage,
    live: new LiveState(redis),
    parts: new RedisPartStore(redis),
    partTargetMs: targets.partTargetMs,
    segmentTargetMs: targets.segmentTargetMs,
    logger: createLogger('packager'),
  });
  return (streamId, clipFile) =>
    new DirectFeed(streamId, clipFile, TILE_RUNG, packager, {
      partTargetMs: targets.partTargetMs,
      segmentTargetMs: targets.segmentTargetMs,
    });
}
