import { Redis, type RedisOptions } from 'ioredis';
import {
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_MAX_RETRIES_PER_REQUEST,
  reconnectOnRedisError,
  redisRetryDelayMs,
} from './redis-policy.js';

export {
  isRedisUnavailable,
  logRedisOutages,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_MAX_RETRIES_PER_REQUEST,
  REDIS_RETRY_BASE_MS,
  REDIS_RETRY_MAX_MS,
  reconnectOnRedisError,
  redisFailure,
  redisRetryDelayMs,
} from './redis-policy.js';

/**
 * How the ingest and the embedded default talk to Redis through ioredis: one options builder over the shared policy
 * (redis-policy.ts, decision D18). The functions use the RESP client instead (resp/client.ts, D47).
 */

export interface RedisClientOptions {
  /** The component's ACL user (decision D38: one per component; core/contracts/redis-acl.ts); absent: `default`. */
  readonly username?: string;
  /**
   * The password, or a function read at every (re)connection: an ElastiCache IAM token is valid 15 minutes for a
   * new connection, and ElastiCache closes IAM connections after 12 hours, so a reconnect must sign a fresh one.
   */
  readonly password?: string | (() => string);
  /** Batch concurrent commands into one write (Lambda: many awaits per request). */
  readonly autoPipelining?: boolean;
  /** CLIENT SETNAME, for `CLIENT LIST` during an incident. */
  readonly connectionName?: string;
}

/** Pure: the ioredis options every Mirror Redis client uses; `redis.duplicate()` copies them to subscribers. */
export function redisOptions(options: RedisClientOptions = {}): RedisOptions {
  return {
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(typeof options.password === 'string' ? { password: options.password } : {}),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
    retryStrategy: (attempt) => redisRetryDelayMs(attempt),
    reconnectOnError: reconnectOnRedisError,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
}

/** A client on `url` with the options above. */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const password = options.password;
  if (typeof password !== 'function') return new Redis(url, redisOptions(options));
  // The constructor connects at once, so the first password is passed as a value; the getter serves reconnects.
  return withPasswordProvider(new Redis(url, { ...redisOptions(options), password: password() }), password);
}

/**
 * ioredis reads `options.password` at each connect (AUTH in the handshake): a getter there makes every
 * (re)connection use a fresh password. `duplicate()` (subscribers) copies options by value, so it is wrapped to
 * install the getter on the copy too.
 */
function withPasswordProvider(client: Redis, password: () => string): Redis {
  Object.defineProperty(client.options, 'password', { get: password, enumerable: true, configurable: true });
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => withPasswordProvider(duplicate(override), password);
  return client;
}
