import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Leases } from '../../containers/ingest/src/lease.js';
import { RegistryFollower } from '../../containers/ingest/src/registry.js';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { sampleViewers } from '../../core/adapters/events.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { RateLimiter, rateLimitKey } from '../../core/adapters/sessions/ratelimit.js';
import { sessionKey } from '../../core/adapters/sessions/store.js';
import { setViewing, viewerCounts, viewerKeys } from '../../core/adapters/sessions/viewers.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import {
  ADAPTER_KEY_PATTERNS,
  REDIS_COMPONENTS,
  type RedisComponent,
} from '../../core/contracts/redis-acl.js';
import { liveKeys } from '../../core/live/keys.js';
import { channels, streamKeys, taskKeys } from '../../core/streams/keys.js';
import { hashPublishKey } from '../../core/streams/secrets.js';
import { componentUrl, defineComponentUsers, startLocalRedis } from '../../local/redis.js';
import { Teardown } from '../../local/teardown.js';
import { freePort } from '../support/ports.js';
import { type RedisServer, startRedis } from '../support/redis.js';

// Decision D38: each component's Redis user, from the one table, on a real redis-server (as the embedded default
// defines them and as ElastiCache gets them): what each may do, and what the public functions may not.
const PASSWORDS = {
  ingest: 'pw-ingest-0123',
  manifest: 'pw-manifest-01',
  session: 'pw-session-012',
  control: 'pw-control-012',
  events: 'pw-events-0123',
};

let server: RedisServer;
let admin: Redis;
const as = {} as Record<RedisComponent, Redis>;
const NOPERM = /NOPERM/;

beforeAll(async () => {
  server = await startRedis();
  admin = server.client();
  await defineComponentUsers(admin, PASSWORDS);
  for (const component of REDIS_COMPONENTS) {
    as[component] = createRedisClient(componentUrl(server.url, component, PASSWORDS[component]));
  }
});

afterAll(async () => {
  for (const client of Object.values(as)) client.disconnect();
  await server?.stop();
});

describe('the ACL table', () => {
  it('names the adapters’ key families exactly', () => {
    expect(sessionKey('*')).toBe(ADAPTER_KEY_PATTERNS.session);
    expect(rateLimitKey('*')).toBe(ADAPTER_KEY_PATTERNS.ratelimit);
    expect(viewerKeys.byStream('*')).toBe(ADAPTER_KEY_PATTERNS.viewers);
    expect(AUDIT_STREAM).toBe(ADAPTER_KEY_PATTERNS.audit);
  });
});

describe('component users on redis-server', () => {
  let publishKey = '';

  it('lets the control user create, rotate, list and audit streams, secrets apart', async () => {
    const registry = new StreamRegistry(as.control);
    const created = await registry.create({
      id: 'cam-acl',
      name: 'ACL cam',
      ladder: 'tile',
      latency: 'low',
      encrypted: true,
      keyLength: 16,
      clientToken: 'token-acl-0001',
    });
    expect(created.created).toBe(true);
    const rotated = await registry.rotate('cam-acl', { publishKey: true, passphrase: false });
    publishKey = rotated.credentials.publishKey!;
    expect((await registry.list(10)).streams.map((s) => s.id)).toEqual(['cam-acl']);
    await as.control.xadd(AUDIT_STREAM, '*', 'who', 'test', 'action', 'rotate');
    expect(await registry.tasks()).toEqual([]);
    expect(await registry.leaseHolder('cam-acl')).toBeUndefined();
  });

  it('lets the ingest user follow the registry (secrets opened), lease, report and publish live state', async () => {
    const admitted: Array<{ id: string; hash: string; passphrase: string | null }> = [];
    const subscriber = as.ingest.duplicate();
    const follower = new RegistryFollower(
      as.ingest,
      subscriber,
      {
        upsert: (record, admission) =>
          admitted.push({ id: record.id, hash: admission.publishKeyHash, passphrase: admission.passphrase }),
        remove: () => undefined,
      },
      { info: () => undefined, warn: () => undefined },
    );
    await follower.refresh('cam-acl');
    subscriber.disconnect();
    expect(admitted).toEqual([
      { id: 'cam-acl', hash: hashPublishKey(publishKey), passphrase: expect.any(String) },
    ]);
    expect((await new Leases(as.ingest, 'task-1', 5000).acquire('cam-acl')).ok).toBe(true);
    await as.ingest.set(streamKeys.status('cam-acl'), '{}', 'PX', 5000);
    await as.ingest
      .multi()
      .set(taskKeys.report('task-1'), '{}')
      .zadd(taskKeys.index, Date.now(), 'task-1')
      .exec();
    const tx = await as.ingest
      .multi()
      .hset(liveKeys.stream('cam-acl'), 'r:720p', '{}')
      .expire(liveKeys.stream('cam-acl'), 60)
      .zadd(liveKeys.streams, Date.now(), 'cam-acl')
      .publish(liveKeys.notify('cam-acl'), '720p 1 0')
      .exec();
    expect(tx?.every(([error]) => error === null)).toBe(true);
  });

  it('lets the manifest user read live state and listen, and nothing else', async () => {
    const manifest = as.manifest;
    expect(await manifest.hgetall(liveKeys.stream('cam-acl'))).toEqual({ 'r:720p': '{}' });
    const listener = manifest.duplicate();
    await listener.subscribe(liveKeys.notify('cam-acl'));
    listener.disconnect();
    // The stream's secrets and its record: refused.
    await expect(manifest.get(streamKeys.secret('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(manifest.hgetall(streamKeys.secret('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(manifest.get(streamKeys.record('cam-acl'))).rejects.toThrow(NOPERM);
    // Writing live state, forging a wake-up, listing key names: refused.
    await expect(manifest.hset(liveKeys.stream('cam-acl'), 'r:720p', 'forged')).rejects.toThrow(NOPERM);
    await expect(manifest.del(liveKeys.stream('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(manifest.publish(liveKeys.notify('cam-acl'), '720p 9 9')).rejects.toThrow(NOPERM);
    await expect(manifest.scan('0')).rejects.toThrow(NOPERM);
    await expect(manifest.keys('*')).rejects.toThrow(NOPERM);
    await expect(manifest.subscribe(channels.streamChanges)).rejects.toThrow(NOPERM);
    expect(await admin.hget(liveKeys.stream('cam-acl'), 'r:720p')).toBe('{}');
  });

  it('lets the session user read public records and keep sessions, but not read secrets or write live state', async () => {
    const session = as.session;
    const registry = new StreamRegistry(session);
    expect((await registry.getMany(['cam-acl']))[0]?.name).toBe('ACL cam');
    expect((await registry.list(10)).streams).toHaveLength(1);
    await registry.statuses(['cam-acl']);
    expect((await new RateLimiter(session).take('203.0.113.9')).allowed).toBe(true);
    await setViewing(session, 'sess-1', [], ['cam-acl'], Date.now() + 60_000);
    expect(await viewerCounts(session, ['cam-acl'])).toEqual([1]);
    await session.set(sessionKey('sess-1'), '{}');
    // What it may read carries no secret: the record is public fields only (before D38 it held key and passphrase).
    const record = (await session.get(streamKeys.record('cam-acl')))!;
    expect(record).not.toContain(publishKey);
    expect(Object.keys(JSON.parse(record))).not.toContain('passphrase');
    await expect(session.get(streamKeys.secret('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(session.get(streamKeys.clientToken('token-acl-0001'))).rejects.toThrow(NOPERM);
    await expect(session.set(streamKeys.record('cam-acl'), '{}')).rejects.toThrow(NOPERM);
    await expect(session.hset(liveKeys.stream('cam-acl'), 'r:720p', 'forged')).rejects.toThrow(NOPERM);
    await expect(session.zadd(liveKeys.streams, 1, 'x')).rejects.toThrow(NOPERM);
    await expect(session.publish(channels.ingestCommands, '{}')).rejects.toThrow(NOPERM);
    await expect(session.call('FLUSHALL')).rejects.toThrow(NOPERM);
  });

  it('lets the events user sample viewer counts and listen, but not read records or secrets, nor write', async () => {
    const events = as.events;
    // What the events server reads each second (D44): the stream index, then the viewer sets.
    expect(await sampleViewers(events)).toEqual(new Map([['cam-acl', 1]]));
    const listener = events.duplicate();
    await listener.subscribe(channels.operatorEvents);
    listener.disconnect();
    await expect(events.get(streamKeys.secret('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(events.hgetall(streamKeys.secret('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(events.get(streamKeys.record('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(events.get(streamKeys.status('cam-acl'))).rejects.toThrow(NOPERM);
    await expect(events.get(sessionKey('sess-1'))).rejects.toThrow(NOPERM);
    await expect(events.zrange(liveKeys.streams, '0', '-1')).rejects.toThrow(NOPERM);
    // Reading commands beyond the two it needs, on its own keys: refused too.
    await expect(events.zrangebyscore(viewerKeys.byStream('cam-acl'), 0, '+inf')).rejects.toThrow(NOPERM);
    await expect(events.zadd(viewerKeys.byStream('cam-acl'), Date.now() + 60_000, 'forged')).rejects.toThrow(
      NOPERM,
    );
    await expect(events.zrem(viewerKeys.byStream('cam-acl'), 'sess-1')).rejects.toThrow(NOPERM);
    await expect(events.del(streamKeys.index)).rejects.toThrow(NOPERM);
    await expect(events.publish(channels.operatorEvents, '{}')).rejects.toThrow(NOPERM);
    await expect(events.eval('return 1', 0)).rejects.toThrow(NOPERM);
    await expect(events.scan('0')).rejects.toThrow(NOPERM);
    expect(await viewerCounts(admin, ['cam-acl'])).toEqual([1]);
  });

  it('lets the control user delete a stream with its secret and live state', async () => {
    await new StreamRegistry(as.control).delete('cam-acl');
    for (const key of [
      streamKeys.record('cam-acl'),
      streamKeys.secret('cam-acl'),
      liveKeys.stream('cam-acl'),
    ]) {
      expect(await admin.exists(key), key).toBe(0);
    }
    await expect(as.control.call('CONFIG', 'GET', 'requirepass')).rejects.toThrow(NOPERM);
  });
});

describe('the embedded default', () => {
  it('defines the component users again when redis-server restarts empty (the fault suite)', async () => {
    const teardown = new Teardown(() => undefined);
    try {
      const local = await startLocalRedis(await freePort(), teardown);
      const manifest = createRedisClient(local.componentUrls.manifest);
      manifest.on('error', () => undefined);
      teardown.add(() => manifest.disconnect());
      expect(await manifest.hgetall(liveKeys.stream('cam'))).toEqual({});
      await local.server.kill();
      await local.server.start();
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          expect(await manifest.hgetall(liveKeys.stream('cam'))).toEqual({});
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await expect(manifest.get(streamKeys.secret('cam'))).rejects.toThrow(NOPERM);
    } finally {
      await teardown.run();
    }
  });
});
