import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reporter } from '../../containers/ingest/src/service/reporter.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';
import { OPERATOR_EVENTS_CHANNEL, type OperatorEvent } from '../../core/events/operator-events.js';
import { bearerAuthenticator, createControlApp } from '../../functions/control/app.js';
import { capturingLogger, TOKEN } from '../control/helpers.js';
import { reportedSession } from '../support/ingest-session.js';
import { type RedisServer, startRedis } from '../support/redis.js';

// Decision D44: the places that change what the operator page shows publish on the events channel: the control
// API's state-changing routes, and the ingest's status writes (with alarm transitions). A real redis-server.

let server: RedisServer;
let redis: Redis;
let listener: Redis;
const received: OperatorEvent[] = [];

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  listener = server.client();
  listener.on('message', (_channel: string, message: string) => received.push(JSON.parse(message)));
  await listener.subscribe(OPERATOR_EVENTS_CHANNEL);
});
afterAll(async () => {
  listener?.disconnect();
  redis?.disconnect();
  await server?.stop();
});

const next = async (match: (e: OperatorEvent) => boolean) => {
  await expect.poll(() => received.some(match), { timeout: 2000 }).toBe(true);
  return received.find(match)!;
};

describe('event publishers (D44)', () => {
  it('the control API tells of each successful change, naming the operation and the stream; not of refusals', async () => {
    const control = createControlApp({
      redis,
      logger: capturingLogger([]),
      srt: { host: '127.0.0.1', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
    });
    const call = (method: string, path: string, body?: unknown) =>
      control.handle({
        method,
        path: `/api/control${path}`,
        query: {},
        headers: { authorization: `Bearer ${TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await call('POST', '/streams', { id: 'ev-1', name: 'Events one' })).status).toBe(201);
    expect(await next((e) => e.type === 'stream' && e.action === 'createStream')).toEqual({
      type: 'stream',
      action: 'createStream',
    });
    expect((await call('POST', '/streams/ev-1/pause')).status).toBe(200);
    expect(await next((e) => e.type === 'stream' && e.action === 'pauseStream')).toEqual({
      type: 'stream',
      streamId: 'ev-1',
      action: 'pauseStream',
    });
    const before = received.length;
    expect((await call('POST', '/streams/nope-404/pause')).status).toBe(404);
    await redis.ping();
    await new Promise((r) => setTimeout(r, 100));
    expect(received.slice(before)).toEqual([]);
  });

  it('the ingest reporter tells each status write, and an alarm when the stream enters or leaves error', async () => {
    let pipeline: Partial<PipelineStatus> = { state: 'running', renditions: ['360p'] };
    const session = reportedSession(
      'ev-2',
      () => ({ bufferedBytes: 0, ...pipeline }) as unknown as PipelineStatus,
      { connId: 3 },
    );
    const reporter = new Reporter({
      redis,
      taskId: 'task-ev',
      capacity: 1,
      gpu: false,
      statusTtlMs: 5000,
      srtStats: () => null,
    });
    await reporter.writeStatus(session);
    const live = await next((e) => e.type === 'status' && e.streamId === 'ev-2');
    expect(live).toMatchObject({ status: { state: 'live', taskId: 'task-ev' } });
    pipeline = { ...pipeline, paused: true } as Partial<PipelineStatus>;
    await reporter.writeStatus(session);
    await next((e) => e.type === 'status' && e.streamId === 'ev-2' && e.status.state === 'paused');
    pipeline = { state: 'error', error: 'ffmpeg exited 1', renditions: [] };
    await reporter.writeStatus(session);
    expect(await next((e) => e.type === 'alarm' && e.alarm === 'raised')).toEqual({
      type: 'alarm',
      streamId: 'ev-2',
      alarm: 'raised',
      reason: 'ffmpeg exited 1',
    });
    pipeline = { state: 'running', renditions: ['360p'] };
    await reporter.writeStatus(session);
    await next((e) => e.type === 'alarm' && e.alarm === 'cleared');
    expect(received.filter((e) => e.type === 'alarm')).toHaveLength(2);
  });
});
