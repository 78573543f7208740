import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { channels, streamKeys } from '../../core/streams/keys.js';
import type { createControlApp } from '../../functions/control/app.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

// Pause, resume and restart (decision D32) against a real redis-server: status codes, the record's flag, the
// commands on the ingest command channel (a subscriber stands in for one ingest task) and the audit entries.

describe('control API: pause, resume, restart', () => {
  let redis: Redis;
  let app: ReturnType<typeof createControlApp>;
  const published: { channel: string; message: string }[] = [];

  useRedisServer(async (server, client) => {
    redis = client;
    const subscriber = server.client();
    await subscriber.subscribe(channels.streamChanges, channels.ingestCommands);
    subscriber.on('message', (channel: string, message: string) => published.push({ channel, message }));
    app = controlApp(redis);
  });
  beforeEach(async () => {
    await redis.flushall();
    published.length = 0;
    await call(app, request('POST', '/api/control/streams', { id: 'cam', name: 'Cam' }));
  });

  const settle = () => new Promise((r) => setTimeout(r, 50));
  const post = (path: string, body?: unknown) =>
    call(app, request('POST', `/api/control/streams/${path}`, body));
  const commands = () =>
    published.filter((p) => p.channel === channels.ingestCommands).map((p) => JSON.parse(p.message));
  const record = async () => JSON.parse((await redis.get(streamKeys.record('cam'))) ?? '{}');

  it('pauses and resumes: the record keeps the flag, the task gets the command, a repeat is 409 naming paused', async () => {
    const created = await call(app, request('GET', '/api/control/streams/cam'));
    expect(created.json.stream.paused).toBe(false);

    const paused = await post('cam/pause');
    expect(paused.status).toBe(200);
    expect(paused.json.stream.paused).toBe(true);
    expect((await record()).paused).toBe(true);

    const again = await post('cam/pause');
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'conflict', field: 'paused' });
    expect(again.json.message).toMatch(/already paused/);

    const resumed = await post('cam/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.json.stream.paused).toBe(false);
    expect((await record()).paused).toBe(false);
    const notPaused = await post('cam/resume');
    expect(notPaused.status).toBe(409);
    expect(notPaused.json).toMatchObject({ error: 'conflict', field: 'paused' });

    await settle();
    expect(commands()).toEqual([
      { type: 'pause', streamId: 'cam' },
      { type: 'resume', streamId: 'cam' },
    ]);
    // The record change is announced too: a task's registry follower applies the flag if it missed the command.
    expect(published.filter((p) => p.channel === channels.streamChanges)).toHaveLength(3);
  });

  it('restarts only a live stream: 409 naming state without a publisher, 202 and the command with one', async () => {
    const idle = await post('cam/restart');
    expect(idle.status).toBe(409);
    expect(idle.json).toMatchObject({ error: 'conflict', field: 'state' });

    await redis.set(streamKeys.lease('cam'), 'task-a');
    const restarted = await post('cam/restart');
    expect(restarted.status).toBe(202);
    expect(restarted.json).toEqual({ streamId: 'cam', tasksNotified: 1 });
    await settle();
    expect(commands()).toEqual([{ type: 'restart', streamId: 'cam' }]);
  });

  it('answers 404 naming streamId for an unknown stream, 400 for a body, and audits every call', async () => {
    for (const action of ['pause', 'resume', 'restart']) {
      const missing = await post(`missing/${action}`);
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ error: 'not_found', field: 'streamId' });
    }
    const withBody = await post('cam/pause', { paused: true });
    expect(withBody.status).toBe(400);
    expect(withBody.json.field).toBe('body');
    await post('cam/pause');
    await post('cam/resume');

    const audit = await call(app, request('GET', '/api/control/audit'));
    const entries = audit.json.entries.map((e: { action: string; target: string; status: number }) => [
      e.action,
      e.target,
      e.status,
    ]);
    expect(entries.slice(0, 5)).toEqual([
      ['resumeStream', 'cam', 200],
      ['pauseStream', 'cam', 200],
      ['restartStream', 'missing', 404],
      ['resumeStream', 'missing', 404],
      ['pauseStream', 'missing', 404],
    ]);
    expect(commands()).toEqual([
      { type: 'pause', streamId: 'cam' },
      { type: 'resume', streamId: 'cam' },
    ]);
  });

  it('shows a paused ingest status as state paused, with its latency', async () => {
    await redis.set(
      streamKeys.status('cam'),
      JSON.stringify({ state: 'paused', taskId: 'task-a', renditions: ['360p'], latencyMs: 37 }),
    );
    const got = await call(app, request('GET', '/api/control/streams/cam'));
    expect(got.json.stream.status).toMatchObject({ state: 'paused', taskId: 'task-a', latencyMs: 37 });
  });
});
