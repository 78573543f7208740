import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

/**
 * A real redis-server on a fixed loopback port that a test can take away and bring back, as an outage or a
 * failover does: `kill()` (connections refused, like a node that died), `pause()`/`resume()` (SIGSTOP: the port
 * accepts but nothing answers, like a hung node or a path that drops packets), `start()` again on the same port
 * (empty: no persistence, so a restart loses the data, as a replacement node would without replication).
 */
export interface ControlledRedis {
  readonly port: number;
  readonly url: string;
  /** (Re)starts redis-server on the port with `args` (e.g. `--replicaof 127.0.0.1 <port>`). */
  start(): Promise<void>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** A plain client for the test's own checks (no retries: it fails at once when the server is away). */
  probe(): Redis;
  stop(): Promise<void>;
}

export async function controlledRedis(args: readonly string[] = []): Promise<ControlledRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | null = null;
  const probes: Redis[] = [];
  const kill = async () => {
    const running = proc;
    proc = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGCONT');
    running.kill('SIGKILL');
    await new Promise((r) => running.once('exit', r));
  };
  const server: ControlledRedis = {
    port,
    url,
    async start() {
      await kill();
      proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
        { stdio: 'ignore' },
      );
      await waitForPing(url);
    },
    kill,
    pause() {
      proc?.kill('SIGSTOP');
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    probe() {
      const client = new Redis(url, {
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: true,
      });
      client.on('error', () => undefined);
      probes.push(client);
      return client;
    },
    async stop() {
      for (const client of probes) client.disconnect();
      await kill();
    },
  };
  await server.start();
  return server;
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}

/** What an API answered while Redis was away, for the test to assert on. */
export interface OutageAnswers {
  /** While redis-server was stopped with SIGSTOP (accepts, never answers). */
  readonly hung: { readonly status: number; readonly retryAfter: string | undefined; readonly ms: number };
  /** While redis-server was killed (connections refused). */
  readonly down: HttpResponseLike;
  /** The status once redis-server was started again (empty), after retrying for up to 4 s. */
  readonly after: number;
}

interface HttpResponseLike {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * Takes Redis away under `ask` the two ways it goes away (hung, then dead), then starts it again (empty) and asks
 * until `ask` answers `recovered` (or gives up after about 4 s).
 */
export async function outageAnswers(
  server: ControlledRedis,
  ask: () => Promise<HttpResponseLike>,
  recovered: number,
): Promise<OutageAnswers> {
  server.pause();
  const started = Date.now();
  const hungResponse = await ask().finally(() => server.resume());
  const hung = {
    status: hungResponse.status,
    retryAfter: hungResponse.headers['retry-after'],
    ms: Date.now() - started,
  };
  await server.kill();
  const down = await ask();
  await server.start();
  let after = 0;
  for (let i = 0; i < 40 && after !== recovered; i++) {
    after = (await ask()).status;
    if (after !== recovered) await new Promise((r) => setTimeout(r, 100));
  }
  return { hung, down, after };
}
