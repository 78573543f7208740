import { afterEach, describe, expect, it } from 'vitest';
import {
  type HealthInputs,
  type HealthServer,
  healthAnswer,
  startHealthServer,
} from '../../containers/ingest/src/service/health.js';

const inputs: HealthInputs = {
  redis: true,
  draining: false,
  taskId: 'task-h',
  streams: 2,
  capacity: 16,
  gpu: false,
  registry: 5,
};

describe('health answer', () => {
  it('is 200 while Redis answers and the task is not draining, with every figure in the body', () => {
    expect(healthAnswer(inputs)).toEqual({ status: 200, body: { ok: true, ...inputs } });
  });

  it('is 503 when Redis does not answer or the task drains (the load balancer stops sending callers)', () => {
    expect(healthAnswer({ ...inputs, redis: false })).toMatchObject({ status: 503, body: { ok: false } });
    expect(healthAnswer({ ...inputs, draining: true })).toMatchObject({
      status: 503,
      body: { ok: false, redis: true, draining: true },
    });
  });
});

describe('health server', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(state: { redisUp: boolean; draining: boolean }) {
    server = await startHealthServer({
      port: 0,
      taskId: 'task-h',
      capacity: 16,
      gpu: true,
      pingRedis: () => (state.redisUp ? Promise.resolve('PONG') : Promise.reject(new Error('down'))),
      activeStreams: () => 3,
      draining: () => state.draining,
      registrySize: () => 7,
    });
    return `http://127.0.0.1:${server.port}`;
  }

  it('answers /health and / with the current state, and 404 elsewhere', async () => {
    const state = { redisUp: true, draining: false };
    const url = await start(state);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({
      ok: true,
      redis: true,
      draining: false,
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
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, redis: false });
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
