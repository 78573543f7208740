import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createRedisClient } from '../core/adapters/redis.js';
import {
  aclSetUserArgs,
  localRedisUser,
  REDIS_COMPONENTS,
  type RedisComponent,
} from '../core/contracts/redis-acl.js';
import { type Managed, signalAndWait, startRedisServer } from './processes.js';
import type { Teardown } from './teardown.js';

/** The platform's redis-server, which the fault suite can kill and start again. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** Whether a redis-server runs now. */
  readonly running: boolean;
  /** SIGKILL: clients see their connections reset, as when an ElastiCache primary dies. */
  kill(): Promise<void>;
  /**
   * A new redis-server on the same port, empty: the local server keeps no snapshot, so this is a failover that lost
   * the data set (no replica had it). Every client reconnects on its own (ioredis retries); the component users are
   * defined again before this resolves, as ElastiCache keeps its users across a node replacement.
   */
  start(): Promise<void>;
}

/** Where the embedded default keeps the master key that seals SRT passphrases (KMS's stand-in, D38). */
export const localSecretsKeyFile = (dataDir: string): string => join(dataDir, 'secrets.key');

/**
 * Defines each component's ACL user (core/contracts/redis-acl.ts, the table the ElastiCache users come from) on the
 * server `admin` is connected to, as the `default` user, which the embedded default keeps for itself (the operator:
 * the platform process, the fault suite) while every app and the ingest connect as their component.
 */
export async function defineComponentUsers(
  admin: Redis,
  passwords: Readonly<Record<RedisComponent, string>>,
): Promise<void> {
  for (const component of REDIS_COMPONENTS) {
    await admin.call('ACL', ...aclSetUserArgs(component, passwords[component]));
  }
}

/** A `redis://user:password@host:port` URL of `component` on the server at `url`. */
export function componentUrl(url: string, component: RedisComponent, password: string): string {
  const parsed = new URL(url);
  parsed.username = localRedisUser(component);
  parsed.password = password;
  return parsed.toString();
}

/** redis-server for this run and the platform's client connection to it; the teardown stops both. */
export async function startLocalRedis(
  port: number,
  teardown: Teardown,
): Promise<{
  url: string;
  redis: Redis;
  server: RedisServerHandle;
  /** Each component's URL (its ACL user and this run's password): what the apps and the ingest connect with. */
  componentUrls: Readonly<Record<RedisComponent, string>>;
}> {
  let current: Managed | undefined = await startRedisServer(port);
  const url = `redis://127.0.0.1:${port}`;
  teardown.trackPid(() => current?.child.pid);
  teardown.add(() => current?.stop());
  // The shared options (timeouts, bounded retries, READONLY reconnects): a local fault behaves as on AWS.
  const redis = createRedisClient(url);
  // While the fault suite has redis-server down, commands fail (and are reported by their callers); without a
  // listener ioredis would print every reconnect attempt as an unhandled error event.
  redis.on('error', () => undefined);
  teardown.add(() => redis.disconnect());
  // New passwords each run: they live in this process and the ingest child's environment only.
  const passwords = Object.fromEntries(
    REDIS_COMPONENTS.map((c) => [c, randomBytes(18).toString('base64url')]),
  ) as Record<RedisComponent, string>;
  await defineComponentUsers(redis, passwords);
  const componentUrls = Object.fromEntries(
    REDIS_COMPONENTS.map((c) => [c, componentUrl(url, c, passwords[c])]),
  ) as Record<RedisComponent, string>;
  const server: RedisServerHandle = {
    url,
    port,
    get running() {
      return current !== undefined;
    },
    async kill() {
      const child = current?.child;
      current = undefined;
      if (child !== undefined) await signalAndWait(child, 'SIGKILL');
    },
    async start() {
      if (current !== undefined) return;
      current = await startRedisServer(port);
      // A short-lived admin connection: the platform's own client may still be in its reconnect backoff.
      const admin = createRedisClient(url);
      try {
        await defineComponentUsers(admin, passwords);
      } finally {
        admin.disconnect();
      }
    },
  };
  return { url, redis, server, componentUrls };
}
