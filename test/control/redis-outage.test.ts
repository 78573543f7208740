import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../core/adapters/redis.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { type ControlledRedis, controlledRedis, outageAnswers } from '../support/redis-control.js';
import { call, capturingLogger, controlApp, request } from './helpers.js';

// The control function on the client its handler builds (connectRedis), against a redis-server that is hung and
// then killed mid-test: 503 + Retry-After for reads and audited writes, never a 500 or a hang.
describe('control API while Redis is unreachable', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let app: ReturnType<typeof controlApp>;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await controlledRedis();
    redis = await connectRedis(server.url);
    redis.on('error', () => undefined);
    app = controlApp(redis, { logger: capturingLogger(lines) });
    expect(
      (await call(app, request('POST', '/api/control/streams', { id: 'cam-1', name: 'cam' }))).status,
    ).toBe(201);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('answers 503 with Retry-After while Redis hangs or is down, and serves again once it is back', async () => {
    const list = () => app.handle(request('GET', '/api/control/streams'));
    expect((await list()).status).toBe(200);
    const { hung, down, after } = await outageAnswers(server, list, 200);
    expect(hung).toMatchObject({ status: 503, retryAfter: '1' });
    expect(hung.ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS * 2 + 500);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(JSON.parse(down.body as string)).toMatchObject({ error: 'unavailable' });
    expect(JSON.parse(down.body as string).message).not.toContain('127.0.0.1');
    expect(after).toBe(200);
  });

  it('answers an audited write with 503 too, and logs no unexpected failure', async () => {
    await server.kill();
    const rename = await call(app, request('PATCH', '/api/control/streams/cam-1', { name: 'renamed' }));
    await server.start();
    expect(rename.status).toBe(503);
    expect(rename.response.headers['retry-after']).toBe('1');
    expect(lines.join('\n')).not.toContain('control call failed');
  });
});
