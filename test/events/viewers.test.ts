import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorEventHub } from '../../core/adapters/events.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { OPERATOR_EVENTS_AUTH_HEADER, OPERATOR_EVENTS_PATH } from '../../core/contracts/api-paths.js';
import { REDIS_COMPONENTS, type RedisComponent } from '../../core/contracts/redis-acl.js';
import { createEventsApp } from '../../functions/events/app.js';
import { componentUrl, defineComponentUsers } from '../../local/redis.js';
import { type SseMessage, sseParser } from '../../web/src/operator/sse.js';
import { call } from '../control/helpers.js';
import { createStreams, sessionApp, UNLIMITED, withToken } from '../session/helpers.js';
import { type RedisServer, startRedis } from '../support/redis.js';

// Decision D44, viewer counts: a viewer session created through the public session app (as its own Redis user,
// which may not publish) reaches an operator's event stream as a `viewers` event within 1.5 s, sampled by the events
// server as ITS Redis user (read only); nothing is sent while no count changes; one sampler serves every connection
// and stops with the last one.

let server: RedisServer;
const clients: Redis[] = [];
let zranges = 0;
let hub: OperatorEventHub;
let events: ReturnType<typeof createEventsApp>;
let session: ReturnType<typeof sessionApp>;

const asUser = (component: RedisComponent) => {
  const client = createRedisClient(componentUrl(server.url, component, `pw-${component}-0123`));
  clients.push(client);
  return client;
};

beforeAll(async () => {
  server = await startRedis();
  const admin = server.client();
  clients.push(admin);
  await defineComponentUsers(
    admin,
    Object.fromEntries(REDIS_COMPONENTS.map((c) => [c, `pw-${c}-0123`])) as Record<RedisComponent, string>,
  );
  await createStreams(admin, ['cam-a', 'cam-b']);
  const reader = asUser('events');
  // Counts the samples (each starts with one ZRANGE of the stream index) to see when the sampler runs.
  const counted = new Proxy(reader, {
    get(target, prop) {
      if (prop === 'zrange') zranges++;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  hub = new OperatorEventHub(reader.duplicate(), { viewers: counted });
  events = createEventsApp({
    source: hub,
    authenticate: async (credential) => (credential === 'tok' ? 'tester' : undefined),
    heartbeatMs: 300,
  });
  session = sessionApp(asUser('session'), { rateLimit: UNLIMITED });
}, 20_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
});

/** One operator's event stream, read by the page's own SSE parser; each message with its arrival time. */
async function connect() {
  const abort = new AbortController();
  const response = await events.handle(
    {
      method: 'GET',
      path: OPERATOR_EVENTS_PATH,
      query: {},
      headers: { [OPERATOR_EVENTS_AUTH_HEADER]: 'Bearer tok' },
    },
    abort.signal,
  );
  expect(response.status).toBe(200);
  const messages: (SseMessage & { atMs: number })[] = [];
  const parser = sseParser((m) => messages.push({ ...m, atMs: performance.now() }));
  const done = (async () => {
    for await (const chunk of response.stream!) parser.feed(chunk);
  })();
  await expect.poll(() => messages.some((m) => m.event === 'sync')).toBe(true);
  const viewers = () => messages.filter((m) => m.event === 'viewers').map((m) => JSON.parse(m.data));
  return {
    messages,
    viewers,
    close: async () => {
      abort.abort();
      await done;
    },
  };
}

const createViewer = async (streamId: string) => {
  const created = await call(
    session,
    withToken('', 'POST', '/api/sessions', { layout: '1x1', tiles: [streamId] }),
  );
  expect(created.status).toBe(201);
  return created.json as { sessionId: string; token: string };
};

describe('viewer counts pushed to operator pages (D44)', () => {
  it('sends nothing while no count changes, then a new viewer within 1.5 s, then its departure', async () => {
    const page = await connect();
    const before = zranges;
    await new Promise((r) => setTimeout(r, 2200));
    // The sampler ran (two samples, or one past the baseline on a loaded machine) and found nothing to tell.
    expect(zranges - before).toBeGreaterThanOrEqual(1);
    expect(page.viewers()).toEqual([]);
    expect(page.messages.filter((m) => m.event === 'message' || m.event === 'status')).toEqual([]);

    const t0 = performance.now();
    const viewer = await createViewer('cam-a');
    await expect
      .poll(page.viewers, { timeout: 3000, interval: 20 })
      .toEqual([{ type: 'viewers', viewers: { 'cam-a': 1 } }]);
    const arrived = page.messages.find((m) => m.event === 'viewers')!.atMs;
    expect(arrived - t0).toBeLessThan(1500);

    const ended = await call(session, withToken(viewer.token, 'DELETE', `/api/sessions/${viewer.sessionId}`));
    expect(ended.status).toBe(204);
    await expect.poll(() => page.viewers().length, { timeout: 3000, interval: 20 }).toBe(2);
    // Only the stream whose count changed: cam-b's 0 is not repeated.
    expect(page.viewers()[1]).toEqual({ type: 'viewers', viewers: { 'cam-a': 0 } });
    await page.close();
  });

  it('runs one sampler for every open connection, and none once the last closes', async () => {
    const first = await connect();
    const second = await connect();
    expect(hub.connections).toBe(2);
    expect(hub.sampling).toBe(true);
    const before = zranges;
    await new Promise((r) => setTimeout(r, 1600));
    // One sample a second (one or two in 1.6 s), not one per connection per second.
    expect(zranges - before).toBeLessThanOrEqual(2);
    await createViewer('cam-b');
    await expect.poll(() => second.viewers().length, { timeout: 3000, interval: 20 }).toBe(1);
    await expect.poll(() => first.viewers().length, { timeout: 3000, interval: 20 }).toBe(1);
    expect(first.viewers()[0]).toEqual({ type: 'viewers', viewers: { 'cam-b': 1 } });

    await first.close();
    expect(hub.sampling).toBe(true);
    await second.close();
    expect(hub.connections).toBe(0);
    expect(hub.sampling).toBe(false);
    const stopped = zranges;
    await new Promise((r) => setTimeout(r, 1100));
    expect(zranges).toBe(stopped);
  });
});
