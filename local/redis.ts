import type { Redis } from 'ioredis';
import { createRedisClient } from '../core/adapters/redis.js';
import { type Managed, signalAndWait, startRedisServer } from './processes.js';
import type { Teardown } from './teardown.js';

/** The platform's redis-server, which the fault suite can kill and start again. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** Whether a redis-server runs now. */
  readonly running: boolean;
  /** SIGKILL: clients see their connections reset, as when an ElastiCache primary dies. */
  kill(): Promise<void>;
  /**
   * A new redis-server on the same port, empty: the local server keeps no snapshot, so this is a failover that lost
   * the data set (no replica had it). Every client reconnects on its own (ioredis retries).
   */
  start(): Promise<void>;
}

/** redis-server for this run and the platform's client connection to it; the teardown stops both. */
export async function startLocalRedis(
  port: number,
  teardown: Teardown,
): Promise<{ url: string; redis: Redis; server: RedisServerHandle }> {
  let current: Managed | undefined = await startRedisServer(port);
  const url = `redis://127.0.0.1:${port}`;
  teardown.trackPid(() => current?.child.pid);
  teardown.add(() => current?.stop());
  // The shared options (timeouts, bounded retries, READONLY reconnects): a local fault behaves as on AWS.
  const redis = createRedisClient(url);
  // While the fault suite has redis-server down, commands fail (and are reported by their callers); without a
  // listener ioredis would print every reconnect attempt as an unhandled error event.
  redis.on('error', () => undefined);
  teardown.add(() => redis.disconnect());
  const server: RedisServerHandle = {
    url,
    port,
    get running() {
      return current !== undefined;
    },
    async kill() {
      const child = current?.child;
      current = undefined;
      if (child !== undefined) await signalAndWait(child, 'SIGKILL');
    },
    async start() {
      if (current !== undefined) return;
      current = await startRedisServer(port);
    },
  };
  return { url, redis, server };
}
