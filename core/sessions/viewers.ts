import type { Redis } from 'ioredis';
import { KEY_PREFIX } from '../streams/keys.js';

/**
 * Per-stream viewer counts: a sorted set per stream of session ids scored by the session's expiry (ms).
 * A session counts while its score is in the future, so counts need no clean-up job to stay right.
 */
export const viewerKeys = {
  byStream: (streamId: string) => `${KEY_PREFIX}viewers:${streamId}`,
} as const;

export async function setViewing(
  redis: Redis,
  sessionId: string,
  before: readonly string[],
  after: readonly string[],
  expiresAtMs: number,
): Promise<void> {
  const tx = redis.multi();
  for (const streamId of new Set(before)) {
    if (!after.includes(streamId)) tx.zrem(viewerKeys.byStream(streamId), sessionId);
  }
  for (const streamId of new Set(after)) {
    const key = viewerKeys.byStream(streamId);
    tx.zadd(key, expiresAtMs, sessionId);
    tx.zremrangebyscore(key, '-inf', `(${Date.now()}`);
    // The set outlives its newest session by a little, then disappears on its own.
    tx.pexpireat(key, expiresAtMs + 60_000);
  }
  await tx.exec();
}

export async function viewerCounts(redis: Redis, streamIds: readonly string[], nowMs = Date.now()) {
  if (streamIds.length === 0) return [];
  const tx = redis.multi();
  for (const id of streamIds) tx.zcount(viewerKeys.byStream(id), nowMs, '+inf');
  const results = (await tx.exec()) ?? [];
  return results.map(([error, count]) => (error ? 0 : Number(count)));
}
