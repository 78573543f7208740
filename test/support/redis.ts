import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { createFunctionRedisClient } from '../../core/adapters/runtime.js';
import { freePort } from './ports.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** A new client; closed by stop(). */
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * `MIRROR_TEST_REDIS_CLIENT=resp`: the tests' clients are the functions' RESP client (D47) instead of ioredis, so
 * the function suites can be run unchanged on it. The commands it does not type (a test's own FLUSHALL, EXISTS, ...)
 * are sent as they are.
 */
function respAsIoredis(url: string): Redis {
  type Args = (string | number | Buffer)[];
  const client = createFunctionRedisClient(url);
  const passOn = <T extends object>(target: T, send: (name: string, args: Args) => unknown): T =>
    new Proxy(target, {
      get(t, name, receiver) {
        if (typeof name !== 'string' || name in t || name === 'then') return Reflect.get(t, name, receiver);
        return (...args: Args) => send(name.toUpperCase(), args);
      },
    });
  const plainMulti = client.multi.bind(client);
  const multi = () => {
    const tx = plainMulti() as unknown as Record<string, (...args: Args) => unknown> & { add(a: Args): void };
    const proxy: object = new Proxy(tx, {
      get(t, name) {
        if (typeof name !== 'string' || name === 'then') return Reflect.get(t, name);
        if (name === 'exec') return () => t.exec?.();
        return (...args: Args) => {
          if (name in t) t[name]?.(...args);
          else t.add([name.toUpperCase(), ...args]);
          return proxy;
        };
      },
    });
    return proxy;
  };
  return passOn(Object.assign(client, { multi }), (name, args) =>
    client.command(name, ...args),
  ) as unknown as Redis;
}

/** Starts a real redis-server on a free loopback port, without persistence. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const clients: Redis[] = [];
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections while the server starts are expected; connect() rejects and we retry.
  probe.on('error', () => undefined);
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return {
    port,
    url,
    client() {
      const c = process.env.MIRROR_TEST_REDIS_CLIENT === 'resp' ? respAsIoredis(url) : new Redis(url);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
