import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorEventHub, redisEventPublisher } from '../../core/adapters/events.js';
import { OPERATOR_EVENTS_AUTH_HEADER, OPERATOR_EVENTS_PATH } from '../../core/contracts/api-paths.js';
import { MAX_QUEUED_EVENTS } from '../../core/events/operator-events.js';
import { createEventsApp } from '../../functions/events/app.js';
import { selfSignedCertificate } from '../../local/edge/cert.js';
import { Edge } from '../../local/edge/edge.js';
import { type EdgeServer, listenEdge } from '../../local/edge/server.js';
import { type RedisServer, startRedis } from '../support/redis.js';

// Decision D44: the operator events endpoint, relayed from a real redis-server's channel through the local edge's
// socket (the same app the Lambda handler streams), as the page reads it.

const TOKEN = 'events-test-token';
let server: RedisServer;
let publisherClient: Redis;
let subscriber: Redis;
let hub: OperatorEventHub;
let edge: EdgeServer;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'mirror-events-'));

beforeAll(async () => {
  server = await startRedis();
  publisherClient = server.client();
  subscriber = server.client();
  hub = new OperatorEventHub(subscriber);
  const events = createEventsApp({
    source: hub,
    authenticate: async (credential) => (credential === TOKEN ? 'tester' : undefined),
    lifetimeMs: 4000,
    heartbeatMs: 500,
  });
  const noApp = { handle: async () => ({ status: 404, headers: {}, body: '' }) };
  edge = await listenEdge(new Edge({ manifest: noApp, media: noApp, events }), {
    tls: selfSignedCertificate(dir),
    httpsPort: 0,
    httpPort: 0,
  });
  base = `http://127.0.0.1:${edge.httpPort}`;
});

afterAll(async () => {
  await edge?.close();
  subscriber?.disconnect();
  publisherClient?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Reads SSE messages from a fetch body until `until` says stop; each with the ms since `t0` it arrived at. */
async function readEvents(
  response: Response,
  until: (messages: { event: string; data: string; atMs: number }[]) => boolean,
  t0 = performance.now(),
) {
  const messages: { event: string; data: string; atMs: number }[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!until(messages)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data) messages.push({ event, data, atMs: performance.now() - t0 });
      end = text.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return messages;
}

const open = (headers: Record<string, string> = { [OPERATOR_EVENTS_AUTH_HEADER]: `Bearer ${TOKEN}` }) =>
  fetch(`${base}${OPERATOR_EVENTS_PATH}`, { headers });

describe('operator events (D44)', () => {
  it('refuses a request without a valid credential with 401 naming the header', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { [OPERATOR_EVENTS_AUTH_HEADER]: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const response = await open(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({
        error: 'unauthorized',
        field: OPERATOR_EVENTS_AUTH_HEADER,
      });
    }
    expect(hub.connections).toBe(0);
  });

  it('lets go of a HEAD request’s subscription at once (the edge asks its origin with GET)', async () => {
    const response = await fetch(`${base}${OPERATOR_EVENTS_PATH}`, {
      method: 'HEAD',
      headers: { [OPERATOR_EVENTS_AUTH_HEADER]: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    await expect.poll(() => hub.connections).toBe(0);
  });

  it('opens with sync, then delivers a published status within a second, in the control API view', async () => {
    const response = await open();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const publish = redisEventPublisher(publisherClient);
    let publishedAt = 0;
    const messages = await readEvents(response, (m) => {
      if (m.length === 1 && publishedAt === 0) {
        publishedAt = performance.now();
        publish({
          type: 'status',
          streamId: 'cam-1',
          status: { state: 'paused', taskId: 't1', input: { bitrateKbps: 4200 }, peer: '10.0.0.9:1234' },
        });
      }
      return m.length >= 2;
    });
    expect(messages[0]!.event).toBe('sync');
    expect(messages[1]!.event).toBe('status');
    const delay = performance.now() - publishedAt;
    expect(delay).toBeLessThan(1000);
    const data = JSON.parse(messages[1]!.data);
    expect(data.streamId).toBe('cam-1');
    // The API's view: state and figures; what the view leaves out (the encoder's address) is not relayed.
    expect(data.status).toMatchObject({ state: 'paused', taskId: 't1', input: { bitrateKbps: 4200 } });
    expect(data.status.peer).toBeUndefined();
  });

  it('drops malformed channel messages, keeps heartbeats flowing, and ends with bye at the lifetime', async () => {
    const t0 = performance.now();
    const response = await open();
    const raw = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    await publisherClient.publish('mirror:events', '{"type":"nope"}');
    await publisherClient.publish('mirror:events', 'not json');
    let text = '';
    for (;;) {
      const { value, done } = await raw.read();
      if (done) break;
      text += value;
    }
    expect(performance.now() - t0).toBeGreaterThan(3900);
    expect(text).toContain(': keep-alive');
    expect([...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual(['sync', 'bye']);
    await expect.poll(() => hub.connections).toBe(0);
  });

  it('cuts a reader that does not read: its queue is bounded, it gets overflow, not an unbounded backlog', async () => {
    const socket = connect(edge.httpPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET ${OPERATOR_EVENTS_PATH} HTTP/1.1\r\nHost: edge\r\n${OPERATOR_EVENTS_AUTH_HEADER}: Bearer ${TOKEN}\r\n\r\n`,
    );
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await expect.poll(() => received.includes('event: sync')).toBe(true);
    // The reader stops reading: the kernel's buffers fill, then the relay's queue.
    socket.pause();
    // Large events (`error` is shown by the view) so that the socket's buffers fill after a few hundred.
    const status = { state: 'error', error: 'x'.repeat(12_000) };
    const publish = redisEventPublisher(publisherClient);
    for (let i = 0; i < 4 * MAX_QUEUED_EVENTS + 2000; i++)
      publish({ type: 'status', streamId: 'cam-1', status });
    await publisherClient.ping();
    // The hub let go of the connection's queue: nothing more is held for it, whatever is published.
    await expect.poll(() => hub.connections, { timeout: 5000 }).toBe(0);
    socket.resume();
    // The response ends (the chunked body's last chunk) right after `overflow`: the page reconnects and resyncs.
    await expect.poll(() => received.endsWith('\r\n0\r\n\r\n'), { timeout: 15_000 }).toBe(true);
    expect(received).toContain('event: overflow');
    // What the socket's buffers held (a few hundred 12 KB events on loopback) plus at most the queue, not the 3,000
    // published: the rest was never held for this reader.
    const delivered = received.split('event: status').length - 1;
    expect(delivered).toBeLessThan(1500);
    socket.destroy();
  });
});
