import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../core/adapters/redis.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { type ControlledRedis, controlledRedis, outageAnswers } from '../support/redis-control.js';
import { createStreams, sessionApp, UNLIMITED, withToken } from './helpers.js';

// The session function on the client its handler builds (connectRedis), against a redis-server that is hung
// (SIGSTOP: the port accepts, nothing answers) and then killed mid-test: 503 + Retry-After, never a 500 or a hang.
describe('session API while Redis is unreachable', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let app: ReturnType<typeof sessionApp>;
  const ask = () => app.handle(withToken('', 'GET', '/api/sessions/streams'));

  beforeAll(async () => {
    server = await controlledRedis();
    redis = await connectRedis(server.url);
    redis.on('error', () => undefined);
    app = sessionApp(redis, { rateLimit: UNLIMITED });
    await createStreams(redis, ['cam-1']);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('answers 503 with Retry-After while Redis hangs or is down, and 200 again once it is back', async () => {
    expect((await ask()).status).toBe(200);
    const { hung, down, after } = await outageAnswers(server, ask, 200);
    expect(hung).toMatchObject({ status: 503, retryAfter: '1' });
    expect(hung.ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS * 2 + 500);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(JSON.parse(down.body as string)).toMatchObject({ error: 'unavailable' });
    expect(after).toBe(200);
  });
});
