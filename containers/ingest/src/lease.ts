import type { Redis } from 'ioredis';
import { streamKeys } from '../../../core/streams/keys.js';

/**
 * Take the lease if nobody holds it, extend it if we do; otherwise answer who holds it. One script for taking and
 * renewing: after a Redis restart that lost the data, or a failover whose replica had not yet seen the lease, the
 * key is simply absent, and the task still publishing takes it back on its next renewal instead of dropping its
 * encoder. Returns 1 when the lease is ours afterwards, else the holder's task id.
 */
const TAKE_OR_RENEW = `local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return holder`;
const RELEASE_IF_OURS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export type LeaseResult = { readonly ok: true } | { readonly ok: false; readonly holder: string | null };

/**
 * One publisher per stream across all tasks: `mirror:lease:{id}` = task id, PX TTL, renewed while publishing.
 * A task that dies stops renewing, so a reconnect to another task takes over once the TTL lapses. Calls reject when
 * Redis cannot be reached: "unknown" is not "lost", and the callers decide what that means (decision D18).
 */
export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly taskId: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(streamId: string): Promise<LeaseResult> {
    const result = await this.redis.eval(
      TAKE_OR_RENEW,
      1,
      streamKeys.lease(streamId),
      this.taskId,
      this.ttlMs,
    );
    return result === 1 ? { ok: true } : { ok: false, holder: typeof result === 'string' ? result : null };
  }

  /** True while the lease is ours (renewed, or taken back where it had vanished); false only if another task holds it. */
  async renew(streamId: string): Promise<boolean> {
    return (await this.acquire(streamId)).ok;
  }

  async release(streamId: string): Promise<void> {
    await this.redis.eval(RELEASE_IF_OURS, 1, streamKeys.lease(streamId), this.taskId);
  }
}
