import type { Redis } from 'ioredis';
import { streamKeys } from '../../../core/streams/keys.js';

/** Renew (or release) only while the lease is still ours. */
const RENEW_IF_OURS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_OURS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export type LeaseResult = { readonly ok: true } | { readonly ok: false; readonly holder: string | null };

/**
 * One publisher per stream across all tasks: `mirror:lease:{id}` = task id, PX TTL, renewed while publishing.
 * A task that dies stops renewing, so a reconnect to another task takes over once the TTL lapses.
 */
export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly taskId: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(streamId: string): Promise<LeaseResult> {
    const key = streamKeys.lease(streamId);
    const set = await this.redis.set(key, this.taskId, 'PX', this.ttlMs, 'NX');
    if (set === 'OK') return { ok: true };
    // Ours already (a reconnect to the same task): extend it.
    if (await this.renew(streamId)) return { ok: true };
    return { ok: false, holder: await this.redis.get(key) };
  }

  async renew(streamId: string): Promise<boolean> {
    const result = await this.redis.eval(
      RENEW_IF_OURS,
      1,
      streamKeys.lease(streamId),
      this.taskId,
      this.ttlMs,
    );
    return result === 1;
  }

  async release(streamId: string): Promise<void> {
    await this.redis.eval(RELEASE_IF_OURS, 1, streamKeys.lease(streamId), this.taskId);
  }
}
