import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isRedisUnavailable,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_RETRY_MAX_MS,
} from '../../core/adapters/redis-policy.js';
import { QUEUE_FULL, RespClient } from '../../core/adapters/resp/client.js';
import { createFunctionRedisClient } from '../../core/adapters/runtime.js';
import { localRedisUser } from '../../core/contracts/redis-acl.js';
import type { RedisPort } from '../../core/resp/port.js';
import { defineComponentUsers } from '../../local/redis.js';
import { freePort } from '../support/ports.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';
import { localhostCertificate } from '../support/tls.js';

// The functions' RESP client (D47) against real redis-servers: the commands the adapters use, with the replies
// ioredis gives; pipelining; pub/sub across reconnects; AUTH as a component's ACL user with a password read at every
// connection; D18's failover behaviour (restart, hung node, READONLY) and the bounded queue.

const clients: { disconnect(): void }[] = [];
function track<T extends { disconnect(): void; on(event: 'error', l: (e: Error) => void): unknown }>(
  c: T,
): T {
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}
const until = async (check: () => Promise<boolean>, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
};
const socketOf = (client: RespClient) => (client as unknown as { socket: Socket }).socket;

let server: ControlledRedis;
beforeAll(async () => {
  server = await controlledRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

/** The same calls the adapters make, on either client. */
async function script(r: RedisPort) {
  const part = Buffer.from([0, 1, 2, 255, 13, 10]);
  const out: unknown[] = [
    await r.set('s:a', 'x'),
    await r.set('s:a', 'y', 'NX'),
    await r.set('s:part', part, 'PX', 5000),
    await r.set('s:tok', 'v', 'EX', 60, 'NX'),
    await r.get('s:a'),
    await r.get('s:none'),
    (await r.getBuffer('s:part'))?.equals(part),
    await r.getBuffer('s:none'),
    await r.mget('s:a', 's:none'),
    await r.mget(['s:none', 's:a']),
    await r
      .multi()
      .hset('s:h', 'f1', '{"a":1}')
      .hset('s:h', 'f2', 'é')
      .expire('s:h', 60)
      .zadd('s:z', 1, 'one', 2, 'two')
      .zadd('s:z', 'NX', 3, 'three')
      .zcount('s:z', 2, '+inf')
      .publish('s:chan', 'hi')
      .set('s:a', 'z', 'NX')
      .zrem('s:z', 'nothing')
      .del('s:gone')
      .exec(),
    await r.hget('s:h', 'f2'),
    await r.hgetall('s:h'),
    await r.hgetall('s:none'),
    await r.hdel('s:h', 'f1'),
    await r.zrange('s:z', 0, -1),
    await r.zrangebyscore('s:z', 2, 2),
    await r.zrevrangebyscore('s:z', '+inf', '-inf', 'LIMIT', 0, 2),
    await r.zrank('s:z', 'two'),
    await r.zrank('s:z', 'none'),
    await r.zcount('s:z', '-inf', '(3'),
    await r.zremrangebyscore('s:z', '-inf', '(2'),
    await r.eval(
      "redis.call('LPUSH', KEYS[1], ARGV[1], ARGV[2]) return {1, 'two', false}",
      1,
      's:l',
      'a',
      'b',
    ),
    await r.eval('return nil', 0),
    await r.lrange('s:l', 0, 10),
    typeof (await r.xadd('s:x', 'MAXLEN', '~', 100, '*', 'who', 'me')),
    (await r.xrevrange('s:x', '+', '-', 'COUNT', 5)).map(([, fields]) => fields),
    await r.publish('s:chan', 'nobody'),
    await r.del('s:a'),
    await r.ping(),
  ];
  const failure = await r.eval("return redis.call('INCR', KEYS[1])", 1, 's:h').catch((e: Error) => e.message);
  out.push(String(failure).split(':')[0]);
  return out;
}

describe('commands', () => {
  it('answer every adapter call exactly as ioredis does', async () => {
    const io = track(new Redis(server.url));
    const resp = track(createFunctionRedisClient(server.url));
    await io.flushall();
    const expected = await script(io);
    await io.flushall();
    const got = await script(resp);
    expect(got).toEqual(expected);
    expect(got[10]).toEqual([
      [null, 1],
      [null, 1],
      [null, 1],
      [null, 2],
      [null, 1],
      [null, 2],
      [null, 0],
      [null, null],
      [null, 0],
      [null, 0],
    ]);
  });

  it('sends the commands issued in one tick in one write, and matches each reply to its caller', async () => {
    const resp = track(createFunctionRedisClient(server.url));
    await resp.ping();
    const write = vi.spyOn(socketOf(resp), 'write');
    const keys = Array.from({ length: 300 }, (_, i) => `p:${i}`);
    const sets = keys.map((k, i) => resp.set(k, String(i)));
    await Promise.all(sets);
    expect(write).toHaveBeenCalledTimes(1);
    expect(await Promise.all(keys.map((k) => resp.get(k)))).toEqual(keys.map((_, i) => String(i)));
  });

  it('reports a bad command as that command’s error, not an outage', async () => {
    const resp = track(createFunctionRedisClient(server.url));
    await resp.set('t:str', 'x');
    const error = await resp.hgetall('t:str').catch((e: Error) => e);
    expect(String(error)).toMatch(/WRONGTYPE/);
    expect(isRedisUnavailable(error)).toBe(false);
    expect(await resp.get('t:str')).toBe('x');
  });
});

describe('pub/sub', () => {
  it('delivers messages, answers PING while subscribed, and resubscribes before ready after a reconnect', async () => {
    const resp = track(createFunctionRedisClient(server.url));
    const sub = track(resp.duplicate());
    const messages: string[] = [];
    sub.on('message', (channel, message) => messages.push(`${channel}=${message}`));
    expect(await sub.subscribe('n:1')).toBe(1);
    expect(await sub.subscribe('n:2')).toBe(2);
    expect(await sub.ping()).toBe('PONG');
    await resp.publish('n:1', 'a');
    expect(await until(async () => messages.length === 1)).toBe(true);

    let readyAgain = false;
    sub.on('ready', () => {
      readyAgain = true;
    });
    await server.probe().call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(await until(async () => readyAgain)).toBe(true);
    // Subscribed again before 'ready': a publish right after it is received.
    expect(await resp.publish('n:2', 'b')).toBe(1);
    await sub.unsubscribe('n:1');
    expect(await resp.publish('n:1', 'dropped')).toBe(0);
    expect(await until(async () => messages.length === 2)).toBe(true);
    expect(messages).toEqual(['n:1=a', 'n:2=b']);
  });
});

describe('AUTH as a component’s ACL user (D38)', () => {
  it('signs in with the password read at every connection, and a refused command is NOPERM, not an outage', async () => {
    const admin = server.probe();
    await defineComponentUsers(admin, {
      ingest: 'pw-i',
      manifest: 'pw-manifest',
      session: 'pw-s',
      control: 'pw-c',
      events: 'pw-e',
    });
    let reads = 0;
    const manifest = track(
      createFunctionRedisClient(server.url, {
        username: localRedisUser('manifest'),
        password: () => {
          reads++;
          return 'pw-manifest';
        },
      }),
    );
    expect(await manifest.hgetall('mirror:live:cam')).toEqual({});
    expect(await manifest.command('ACL', 'WHOAMI').catch((e: Error) => e.message)).toMatch(/NOPERM/);
    const refused = await manifest.set('mirror:live:cam', 'x').catch((e: unknown) => e);
    expect(String(refused)).toMatch(/NOPERM/);
    expect(isRedisUnavailable(refused)).toBe(false);
    expect(reads).toBe(1);
    await admin.call('CLIENT', 'KILL', 'USER', localRedisUser('manifest'));
    expect(await until(async () => (await manifest.hget('mirror:live:cam', 'x')) === null)).toBe(true);
    expect(reads).toBe(2);

    // A password for a server that asks none (the default user without one) is ignored, as ioredis does.
    const needless = track(createFunctionRedisClient(server.url, { password: 'unneeded' }));
    expect(await needless.ping()).toBe('PONG');

    const wrong = track(
      createFunctionRedisClient(server.url, { username: 'mirror-manifest', password: 'no' }),
    );
    const error = await wrong.get('mirror:live:cam').catch((e: Error) => e);
    expect(String((error as Error).cause)).toMatch(/WRONGPASS/);
  });
});

describe('D18: outages and failovers', () => {
  it('a hung node fails a command after the command timeout; the late reply is dropped, not given to the next', async () => {
    const resp = track(createFunctionRedisClient(server.url));
    await resp.set('h:x', '1');
    server.pause();
    const started = Date.now();
    const error = await resp.get('h:x').catch((e: unknown) => e);
    const waited = Date.now() - started;
    server.resume();
    expect(isRedisUnavailable(error)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 500);
    expect(await resp.get('h:none')).toBeNull();
  });

  it('holds at most maxPending commands: one more is refused at once, as an outage', async () => {
    const resp = track(new RespClient(server.url, { ...testOptions, maxPending: 10 }));
    await resp.ping();
    server.pause();
    try {
      const held = Array.from({ length: 10 }, () => resp.get('q').catch((e: unknown) => e));
      const started = Date.now();
      const refused = await resp.get('q').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(50);
      expect(String(refused)).toContain(QUEUE_FULL);
      expect(isRedisUnavailable(refused)).toBe(true);
      server.resume();
      expect((await Promise.all(held)).every((r) => r === null)).toBe(true);
    } finally {
      server.resume();
    }
  });

  it('a restarted server: fails fast while it is down, and the client is back within the backoff', async () => {
    const resp = track(createFunctionRedisClient(server.url));
    await resp.set('r:y', '1');
    await server.kill();
    const started = Date.now();
    const first = await resp.get('r:y').catch((e: unknown) => e);
    expect(isRedisUnavailable(first)).toBe(true);
    expect(Date.now() - started).toBeLessThanOrEqual(REDIS_COMMAND_TIMEOUT_MS + 200);
    // Once an attempt has failed, nothing waits: an answer (503) at once.
    await new Promise((r) => setTimeout(r, 300));
    const quick = Date.now();
    expect(isRedisUnavailable(await resp.get('r:y').catch((e: unknown) => e))).toBe(true);
    expect(Date.now() - quick).toBeLessThan(50);
    await server.start();
    const restarted = Date.now();
    expect(await until(async () => (await resp.ping()) === 'PONG')).toBe(true);
    expect(Date.now() - restarted).toBeLessThan(REDIS_RETRY_MAX_MS * 1.2 + REDIS_COMMAND_TIMEOUT_MS);
  });

  it('READONLY from a demoted primary rejects the command, replaces the connection, and writes reach the new primary', async () => {
    const replica = await controlledRedis(['--replicaof', '127.0.0.1', String(server.port)]);
    try {
      const resp = track(createFunctionRedisClient(replica.url));
      const before = await resp.command('CLIENT', 'ID');
      const error = await resp.set('ro:k', 'v').catch((e: unknown) => e);
      expect(String(error)).toMatch(/^ReplyError: READONLY/);
      expect(isRedisUnavailable(error)).toBe(true);
      // The failover completes: the node is promoted (ElastiCache moves the endpoint; here the node itself).
      await replica.probe().replicaof('NO', 'ONE');
      expect(await until(async () => (await resp.set('ro:k', 'v')) === 'OK')).toBe(true);
      expect(await resp.command('CLIENT', 'ID')).not.toBe(before);
      // Inside MULTI the refusal arrives as EXECABORT; its cause says READONLY, so it is an outage (503) too.
      await replica.probe().replicaof('127.0.0.1', String(server.port));
      const aborted = await resp
        .multi()
        .set('ro:m', '1')
        .exec()
        .catch((e: unknown) => e);
      expect(String(aborted)).toMatch(/EXECABORT/);
      expect(isRedisUnavailable(aborted)).toBe(true);
    } finally {
      await replica.stop();
    }
  });
});

describe('TLS (rediss://, ElastiCache in-transit encryption)', () => {
  it('speaks RESP over TLS, checking the server certificate', async () => {
    const { cert, key } = localhostCertificate('mirror-resp-tls-');
    const port = await freePort();
    const proc = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    try {
      const url = `rediss://localhost:${port}`;
      const resp = track(new RespClient(url, { ...testOptions, ca: readFileSync(cert) }));
      expect(await until(async () => (await resp.set('tls:k', 'v')) === 'OK')).toBe(true);
      expect(await resp.get('tls:k')).toBe('v');
      const sub = track(resp.duplicate());
      const got: string[] = [];
      sub.on('message', (_channel, message) => got.push(message));
      await sub.subscribe('tls:c');
      await resp.publish('tls:c', 'over tls');
      expect(await until(async () => got.length === 1)).toBe(true);
      // Without the CA the certificate is refused: no connection, so an outage (503), never a silent plain link.
      const untrusting = track(new RespClient(url, testOptions));
      const refused = await untrusting.get('tls:k').catch((e: unknown) => e);
      expect(isRedisUnavailable(refused)).toBe(true);
      expect(String((refused as Error).cause)).toMatch(/self[- ]signed/i);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

const testOptions = {
  connectTimeoutMs: 2000,
  commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
  retryDelayMs: () => 50,
  reconnectOnError: () => false,
  maxPending: 1000,
};
