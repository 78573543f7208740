import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Leases } from '../../containers/ingest/src/lease.js';
import { LeaseKeeper } from '../../containers/ingest/src/service/lease-keeper.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { streamKeys } from '../../core/streams/keys.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';

const publisher = { id: 4, streamId: 'cam', peer: 'p' };

describe('lease keeper through a Redis outage', () => {
  it('keeps the publisher while renewal cannot reach Redis, warning once; drops it only for another holder', async () => {
    let answer: boolean | Error = new Error('Command timed out');
    const renew = vi.fn(async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    const closed: Array<[number, string]> = [];
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const keeper = new LeaseKeeper({ renew }, { close: (id, reason) => closed.push([id, reason]) }, log);
    const stream = { streamId: 'cam', conn: publisher, pending: null };
    for (let tick = 0; tick < 30; tick++) expect(await keeper.keep(stream)).toBe(true);
    expect(closed).toEqual([]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toBe('lease renewal failing');

    answer = true;
    expect(await keeper.keep(stream)).toBe(true);
    expect(log.info).toHaveBeenCalledWith(
      'lease renewal recovered',
      expect.objectContaining({ failures: 30 }),
    );

    answer = false;
    expect(await keeper.keep(stream)).toBe(false);
    expect(closed).toEqual([[4, 'lease lost']]);
  });
});

describe('leases on a real redis-server', () => {
  let server: ControlledRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await controlledRedis();
    redis = createRedisClient(server.url);
    redis.on('error', () => undefined);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('renewal takes back a lease that vanished (restart, failover) and refuses one another task holds', async () => {
    const a = new Leases(redis, 'task-a', 5000);
    const b = new Leases(redis, 'task-b', 5000);
    expect(await a.acquire('cam')).toEqual({ ok: true });
    expect(await b.acquire('cam')).toEqual({ ok: false, holder: 'task-a' });
    expect(await b.renew('cam')).toBe(false);
    expect(await redis.pttl(streamKeys.lease('cam'))).toBeGreaterThan(4000);

    await redis.del(streamKeys.lease('cam'));
    expect(await a.renew('cam')).toBe(true);
    expect(await redis.get(streamKeys.lease('cam'))).toBe('task-a');
    await b.release('cam');
    expect(await redis.get(streamKeys.lease('cam'))).toBe('task-a');
  });

  it('rejects (unknown, not lost) while Redis is down, and renews again after a restart that lost the data', async () => {
    const a = new Leases(redis, 'task-a', 5000);
    await a.acquire('cam-2');
    await server.kill();
    await expect(a.renew('cam-2')).rejects.toThrow();
    await server.start();
    let renewed = false;
    for (let i = 0; i < 30 && !renewed; i++) {
      renewed = await a.renew('cam-2').catch(() => false);
      if (!renewed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(renewed).toBe(true);
    expect(await server.probe().get(streamKeys.lease('cam-2'))).toBe('task-a');
  });
});
