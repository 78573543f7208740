import { afterEach, describe, expect, it } from 'vitest';
import {
  HEALTH_REDIS_PING_TIMEOUT_MS,
  type HealthInputs,
  type HealthServer,
  healthAnswer,
  startHealthServer,
} from '../../containers/ingest/src/service/health.js';

const inputs: HealthInputs = {
  redis: true,
  draining: false,
  srt: true,
  taskId: 'task-h',
  streams: 2,
  capacity: 16,
  gpu: false,
  registry: 5,
};

describe('health answer', () => {
  it('is 200 while the task serves, with every figure in the body', () => {
    expect(healthAnswer(inputs)).toEqual({ status: 200, body: { ok: true, degraded: false, ...inputs } });
  });

  it('is 503 only when the task cannot serve: it drains or its SRT listener is down', () => {
    expect(healthAnswer({ ...inputs, draining: true })).toMatchObject({
      status: 503,
      body: { ok: false, redis: true, draining: true },
    });
    expect(healthAnswer({ ...inputs, srt: false })).toMatchObject({
      status: 503,
      body: { ok: false, srt: false },
    });
  });

  it('is 200 but degraded while Redis does not answer (a failover must not get healthy tasks replaced)', () => {
    expect(healthAnswer({ ...inputs, redis: false })).toEqual({
      status: 200,
      body: { ...inputs, ok: true, degraded: true, redis: false },
    });
  });
});

describe('health server', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(state: { redisUp: boolean | 'hung'; draining: boolean }) {
    server = await startHealthServer({
      port: 0,
      taskId: 'task-h',
      capacity: 16,
      gpu: true,
      pingRedis: () =>
        state.redisUp === 'hung'
          ? new Promise(() => {})
          : state.redisUp
            ? Promise.resolve('PONG')
            : Promise.reject(new Error('down')),
      activeStreams: () => 3,
      draining: () => state.draining,
      registrySize: () => 7,
    });
    return `http://127.0.0.1:${server.port}`;
  }

  it('answers /health and / with the current state, and 404 elsewhere', async () => {
    const state: { redisUp: boolean | 'hung'; draining: boolean } = { redisUp: true, draining: false };
    const url = await start(state);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({
      ok: true,
      degraded: false,
      redis: true,
      draining: false,
      srt: true,
      taskId: 'task-h',
      streams: 3,
      capacity: 16,
      gpu: true,
      registry: 7,
    });
    expect((await fetch(`${url}/`)).status).toBe(200);
    const missing = await fetch(`${url}/metrics`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });

    state.redisUp = false;
    const down = await fetch(`${url}/health`);
    expect(down.status).toBe(200);
    expect(await down.json()).toMatchObject({ ok: true, degraded: true, redis: false });
    // A PING that never answers (a hung node) must not hold the load balancer's check past its timeout.
    state.redisUp = 'hung';
    const started = Date.now();
    const hung = await fetch(`${url}/health`);
    expect(Date.now() - started).toBeLessThan(HEALTH_REDIS_PING_TIMEOUT_MS + 400);
    expect(await hung.json()).toMatchObject({ ok: true, degraded: true, redis: false });
    state.redisUp = true;
    state.draining = true;
    expect((await fetch(`${url}/health`)).status).toBe(503);
  });

  it('close() frees the port', async () => {
    const url = await start({ redisUp: true, draining: false });
    await server!.close();
    server = undefined;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
