import type { Redis } from 'ioredis';
import { channels, streamKeys } from '../../core/streams/keys.js';
import type { LegacyStreamRecord as StreamRecord } from '../../core/streams/schema.js';

/** A passthrough stream record without passphrase; tests override what they need. */
export function streamRecord(id: string, overrides: Partial<StreamRecord> = {}): StreamRecord {
  const now = new Date().toISOString();
  return {
    id,
    name: id,
    ladder: 'passthrough',
    latency: 'low',
    latencyProfile: 'low',
    publishKey: `key-${id}-0123456789`,
    passphrase: null,
    keyLength: 16,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** Writes the record as the control API does and tells the ingest tasks (their registry follower) about it. */
export async function createStream(redis: Redis, r: StreamRecord): Promise<void> {
  await redis
    .multi()
    .set(streamKeys.record(r.id), JSON.stringify(r))
    .zadd(streamKeys.index, Date.now(), r.id)
    .set(streamKeys.byPublishKey(r.publishKey), r.id)
    .exec();
  await redis.publish(channels.streamChanges, JSON.stringify({ type: 'upsert', streamId: r.id }));
}

/** The standard access-control streamid for publishing `r`. */
export const publishStreamId = (r: StreamRecord) => `#!::r=${r.id},m=publish,s=${r.publishKey}`;
