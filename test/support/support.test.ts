import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from './redis.js';

describe('test support: real redis-server', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('stores and reads back a value', async () => {
    const c = redis.client();
    await c.set('k', 'v');
    expect(await c.get('k')).toBe('v');
  });
});
