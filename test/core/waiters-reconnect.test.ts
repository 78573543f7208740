import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';

// A wake-up published while the waiters' subscriber connection is down is lost (pub/sub keeps nothing): after the
// reconnect the waiters read each waited-on stream once, so a held playlist request is answered then, not at its
// timeout.
describe('live-state waiters across a subscriber reconnect', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let subscriber: Redis;

  beforeAll(async () => {
    server = await controlledRedis();
    redis = createRedisClient(server.url);
    subscriber = redis.duplicate();
    for (const c of [redis, subscriber]) c.on('error', () => undefined);
  });
  afterAll(async () => {
    redis?.disconnect();
    subscriber?.disconnect();
    await server?.stop();
  });

  it('re-reads a waited-on stream once the subscription is back', async () => {
    const waiters = new LiveWaiters(subscriber, new LiveState(redis));
    let reads = 0;
    const started = Date.now();
    // The first read (right after subscribing) does not satisfy the waiter; only a read after the reconnect can.
    const waiting = waiters.wait('cam', () => ++reads >= 2, 5000);
    while (reads < 1) await new Promise((r) => setTimeout(r, 10));
    await server.probe().call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waiting;
    expect(reads).toBe(2);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(waiters.subscribedStreams).toBe(0);
  });
});
