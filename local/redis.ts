import { Redis } from 'ioredis';
import { startRedisServer } from './processes.js';
import type { Teardown } from './teardown.js';

/** redis-server for this run and the platform's client connection to it; the teardown stops both. */
export async function startLocalRedis(
  port: number,
  teardown: Teardown,
): Promise<{ url: string; redis: Redis }> {
  const server = await startRedisServer(port);
  teardown.manage(server);
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  teardown.add(() => redis.disconnect());
  return { url: server.url, redis };
}
