import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redis.js';

/**
 * A real redis-server for the enclosing describe block: started before its tests, then `ready` runs with the
 * server and one client (to build the apps under test); stopped after the block's tests.
 */
export function useRedisServer(ready: (server: RedisServer, redis: Redis) => void | Promise<void>): void {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis();
    await ready(server, server.client());
  });
  afterAll(async () => {
    await server?.stop();
  });
}
