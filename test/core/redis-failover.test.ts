import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisClient,
  isRedisUnavailable,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_RETRY_MAX_MS,
  reconnectOnRedisError,
  redisFailure,
  redisOptions,
  redisRetryDelayMs,
} from '../../core/adapters/redis.js';
import { UnavailableError } from '../../core/api/errors.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';

/**
 * A TCP forwarder standing in for ElastiCache's primary endpoint: its DNS name moves to the promoted replica on a
 * failover, so new connections reach the new primary while connections already open stay on the old one.
 */
async function endpoint(
  targetPort: number,
): Promise<{ url: string; point(port: number): void; close(): Promise<void> }> {
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    point(port) {
      target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const clients: Redis[] = [];
function track(client: Redis): Redis {
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

describe('Redis client options (one builder for every process)', () => {
  it('sets connect and command timeouts, bounded retries, READONLY reconnects and a backoff that never gives up', () => {
    const options = redisOptions({ password: 'token', autoPipelining: true });
    expect(options).toMatchObject({
      password: 'token',
      connectTimeout: 2000,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
    });
    expect(options.reconnectOnError).toBe(reconnectOnRedisError);
    expect(redisRetryDelayMs(1, () => 0)).toBe(50);
    expect(redisRetryDelayMs(2, () => 0)).toBe(100);
    expect(redisRetryDelayMs(5, () => 0)).toBe(800);
    expect(redisRetryDelayMs(1000, () => 0)).toBe(REDIS_RETRY_MAX_MS);
    expect(redisRetryDelayMs(1000, () => 0.999)).toBeLessThanOrEqual(REDIS_RETRY_MAX_MS * 1.2);
    expect(options.retryStrategy?.(10_000)).toBeGreaterThan(0);
  });

  it('reconnects on READONLY and MASTERDOWN only; classifies outages as unavailable, not bugs', () => {
    expect(reconnectOnRedisError(new Error("READONLY You can't write against a read only replica."))).toBe(
      true,
    );
    expect(reconnectOnRedisError(new Error('MASTERDOWN Link with MASTER is down'))).toBe(true);
    expect(reconnectOnRedisError(new Error('WRONGTYPE Operation against a key'))).toBe(false);
    expect(reconnectOnRedisError(new Error('ERR unknown command'))).toBe(false);
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnavailable(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRedisUnavailable(new Error('WRONGTYPE Operation against a key'))).toBe(false);
    expect(isRedisUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(redisFailure(new Error('Connection is closed.'))).toBeInstanceOf(UnavailableError);
    const bug = new TypeError('x is undefined');
    expect(redisFailure(bug)).toBe(bug);
  });
});

describe('Redis failover against real redis-servers', () => {
  let primary: ControlledRedis;
  let replica: ControlledRedis;

  beforeAll(async () => {
    primary = await controlledRedis();
    replica = await controlledRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all([replica?.stop(), primary?.stop()]);
  });

  it('a replica answers writes with READONLY, which the client reconnects on and counts as unavailable', async () => {
    const onReplica = track(new Redis(replica.url, { maxRetriesPerRequest: 0 }));
    const error = await onReplica.set('k', 'v').catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^READONLY/);
    expect(reconnectOnRedisError(error as Error)).toBe(true);
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('after a failover a client on the demoted primary reconnects through the endpoint and writes to the new one', async () => {
    const ep = await endpoint(primary.port);
    try {
      const client = track(createRedisClient(ep.url));
      // Without the shared options: the connection stays on the demoted node for good.
      const stuck = track(new Redis(ep.url, { maxRetriesPerRequest: 2 }));
      await client.set('before', '1');
      await stuck.set('before', '1');

      // The failover: the replica is promoted, the old primary follows it, the endpoint moves.
      await replica.probe().replicaof('NO', 'ONE');
      await primary.probe().replicaof('127.0.0.1', String(replica.port));
      ep.point(replica.port);

      const first = await client.set('after', '2').catch((e: unknown) => e as Error);
      expect(String(first)).toMatch(/READONLY/);
      let written = false;
      const deadline = Date.now() + 3000;
      while (!written && Date.now() < deadline) {
        written = await client.set('after', '2').then(
          () => true,
          () => false,
        );
        if (!written) await new Promise((r) => setTimeout(r, 50));
      }
      expect(written).toBe(true);
      expect(await replica.probe().get('after')).toBe('2');

      for (let i = 0; i < 5; i++) {
        await expect(stuck.set('after', 'stuck')).rejects.toThrow(/READONLY/);
      }
    } finally {
      await ep.close();
    }
  });
});

describe('Redis outages against a real redis-server', () => {
  let redis: ControlledRedis;
  beforeAll(async () => {
    redis = await controlledRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it('a hung server (SIGSTOP) fails a command after the command timeout, and the client recovers after', async () => {
    const client = track(createRedisClient(redis.url));
    await client.set('x', '1');
    redis.pause();
    const started = Date.now();
    const error = await client.get('x').catch((e: unknown) => e);
    const waited = Date.now() - started;
    redis.resume();
    expect(isRedisUnavailable(error)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 500);
    expect(await client.get('x')).toBe('1');
  });

  it('a dead server fails commands fast, and the client is back within a second of its restart', async () => {
    const client = track(createRedisClient(redis.url));
    await client.set('y', '1');
    await redis.kill();
    const started = Date.now();
    const error = await client.get('y').catch((e: unknown) => e);
    expect(isRedisUnavailable(error)).toBe(true);
    expect(Date.now() - started).toBeLessThanOrEqual(REDIS_COMMAND_TIMEOUT_MS + 200);
    await redis.start();
    const restarted = Date.now();
    let answered = false;
    while (!answered && Date.now() - restarted < 3000) {
      answered = await client.ping().then(
        () => true,
        () => false,
      );
    }
    expect(answered).toBe(true);
    expect(Date.now() - restarted).toBeLessThan(REDIS_RETRY_MAX_MS * 1.2 + REDIS_COMMAND_TIMEOUT_MS);
  });
});
