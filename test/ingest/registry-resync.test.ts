import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryFollower } from '../../containers/ingest/src/registry.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { streamKeys } from '../../core/streams/keys.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';

// An ingest task mirrors the stream registry into its admission table. Changes published while its subscription is
// down are lost; and a Redis that comes back empty (a failover without a replica) must not read as "every stream
// deleted": the task writes back the records it holds.

const stream = (name: string) =>
  ({ name, ladder: 'tile', latency: 'low', encrypted: true, keyLength: 16 }) as const;

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('registry follower across reconnects (real redis-server)', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let subscriber: Redis;
  let follower: RegistryFollower;
  const removed: string[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    server = await controlledRedis();
    await server.start();
    redis = createRedisClient(server.url);
    subscriber = redis.duplicate();
    const registry = new StreamRegistry(redis);
    await registry.create({ ...stream('Cam A'), id: 'cam-a' });
    await registry.create({ ...stream('Cam B'), id: 'cam-b' });
    follower = new RegistryFollower(
      redis,
      subscriber,
      { upsert: () => undefined, remove: (id) => removed.push(id) },
      { info: () => undefined, warn: (message) => warnings.push(message) },
    );
    await follower.start();
  });

  afterAll(async () => {
    redis?.disconnect();
    subscriber?.disconnect();
    await server?.stop();
  });

  it('applies a deletion it missed while its subscription was down', async () => {
    expect(follower.get('cam-b')).toBeDefined();
    // The deletion's notification is lost: the keys go without a message, then the subscriber's connection drops.
    const probe = server.probe();
    await probe.del(streamKeys.record('cam-b'));
    await probe.zrem(streamKeys.index, 'cam-b');
    await probe.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await until('cam-b removed after the reconnect', () => removed.includes('cam-b'));
    expect(follower.get('cam-b')).toBeUndefined();
    expect(follower.get('cam-a')).toBeDefined();
  });

  it('writes back the records it holds when Redis comes back without its data set', async () => {
    const epoch = await server.probe().get(streamKeys.epoch);
    const secret = await server.probe().get(streamKeys.secret('cam-a'));
    expect(secret).not.toBeNull();
    const record = follower.get('cam-a')!;
    expect(epoch).toMatch(/^[0-9a-f]{16}$/);
    await server.kill();
    await server.start();
    const probe = server.probe();
    await until('cam-a written back', async () => (await probe.get(streamKeys.record('cam-a'))) !== null);
    expect(JSON.parse((await probe.get(streamKeys.record('cam-a')))!)).toEqual(record);
    expect(await probe.zrange(streamKeys.index, '0', '-1')).toEqual(['cam-a']);
    // Its secret too (the key's hash, the sealed passphrase), else the stream could never be published again.
    expect(await probe.get(streamKeys.secret('cam-a'))).toBe(secret);
    // The same epoch, so another task does not take the restored registry for yet another loss.
    expect(await probe.get(streamKeys.epoch)).toBe(epoch);
    expect(removed).not.toContain('cam-a');
    expect(follower.get('cam-a')).toEqual(record);
    expect(warnings).toContain('stream registry restored after Redis lost its data');
  });
});

describe('registry follower started before the first stream (real redis-server)', () => {
  let server: ControlledRedis;
  const clients: Redis[] = [];

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  it('still writes the registry back after a data loss (it never read an epoch at start)', async () => {
    server = await controlledRedis();
    await server.start();
    const redis = createRedisClient(server.url);
    const subscriber = redis.duplicate();
    clients.push(redis, subscriber);
    const removed: string[] = [];
    const follower = new RegistryFollower(
      redis,
      subscriber,
      { upsert: () => undefined, remove: (id) => removed.push(id) },
      { info: () => undefined, warn: () => undefined },
    );
    await follower.start();
    await new StreamRegistry(redis).create({ ...stream('Cam C'), id: 'cam-c' });
    await until('cam-c followed', () => follower.get('cam-c') !== undefined);
    await server.kill();
    await server.start();
    const probe = server.probe();
    await until('cam-c written back', async () => (await probe.get(streamKeys.record('cam-c'))) !== null);
    expect(await probe.get(streamKeys.epoch)).toMatch(/^[0-9a-f]{16}$/);
    expect(removed).toEqual([]);
  });
});
