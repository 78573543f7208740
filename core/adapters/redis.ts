import { Redis, type RedisOptions } from 'ioredis';
import { UnavailableError } from '../api/errors.js';
import type { Logger } from '../logger.js';

/**
 * How every Mirror process talks to Redis (functions, ingest, the embedded default): one options builder, so a
 * failover or an outage is ridden out the same way everywhere (decision D18).
 */

/**
 * A TCP connect to ElastiCache inside the VPC takes milliseconds; during a failover the old primary's address may
 * black-hole SYNs, and ioredis's 10 s default would hold every queued command that long. 2 s, then retry (the
 * primary endpoint's DNS name points at the promoted replica after about 30 s on AWS).
 */
export const REDIS_CONNECT_TIMEOUT_MS = 2000;
/**
 * No single Mirror command takes more than a few ms on a healthy node; a reply missing for 1 s means the node is
 * gone or hung (a paused process, a dead path without RST). Failing then lets a function answer 503 well inside
 * its timeout and lets the ingest carry on without waiting for a live-state write.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/**
 * Commands issued while disconnected wait in ioredis's offline queue; after this many reconnection attempts the
 * queue is flushed with an error. With the commandTimeout above this bounds the queue by time (a short blip is
 * bridged, an outage fails fast instead of piling up).
 */
export const REDIS_MAX_RETRIES_PER_REQUEST = 1;
/** Reconnect backoff: 50 ms doubling to at most 1 s, with up to 20 % jitter so tasks do not reconnect in step. */
export const REDIS_RETRY_BASE_MS = 50;
export const REDIS_RETRY_MAX_MS = 1000;

/**
 * Pure: the delay before reconnection attempt `attempt` (1, 2, ...). Never gives up (null would end the client
 * for good): a long-running ingest task must come back whenever Redis does.
 */
export function redisRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 10);
  const base = Math.min(REDIS_RETRY_MAX_MS, REDIS_RETRY_BASE_MS * 2 ** exponent);
  return Math.round(base * (1 + 0.2 * random()));
}

/**
 * Reply errors that mean "this connection is on the wrong node": after an ElastiCache failover the old primary is
 * demoted to a replica and every write on a connection still open to it answers READONLY; a replica whose primary
 * link is down answers MASTERDOWN. Reconnecting resolves the primary endpoint again and reaches the new primary.
 */
const WRONG_NODE = /^(READONLY|MASTERDOWN)\b/;

/**
 * Pure: ioredis's `reconnectOnError` decision. `true` (reconnect; the failed command is rejected, its caller retries
 * on its own schedule), never `2` (resend): a resent command from inside a MULTI or a Lua lease script would run
 * outside the transaction it belonged to.
 */
export function reconnectOnRedisError(error: Error): boolean {
  return WRONG_NODE.test(error.message);
}

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

/** Error codes of a socket that could not reach, or lost, the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What ioredis says when a command never reached a server or got no reply in time. */
const CLIENT_MESSAGES = [
  'Command timed out',
  'Connection is closed.',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
];

/**
 * Pure: true for a failure that says Redis is unreachable, timed out or is failing over (retry later), as opposed to
 * a bug or a bad request. Recognised by the errors' names, codes and ioredis's fixed messages.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (CLIENT_MESSAGES.some((m) => error.message.startsWith(m))) return true;
  if (WRONG_NODE.test(error.message) || error.message.startsWith('LOADING')) return true;
  return error.cause !== undefined && error.cause !== error && isRedisUnavailable(error.cause);
}

/** The typed 503 (with Retry-After) for a Redis outage, else the error unchanged; the API edge maps it once. */
export function redisFailure(error: unknown): unknown {
  if (!isRedisUnavailable(error)) return error;
  return new UnavailableError('the live state store is unreachable; retry shortly', { cause: error });
}

/**
 * Logs a client's outage once: a warning at the first error, an info line when it is ready again (ioredis emits
 * 'error' at every failed reconnection attempt, which would be one line per second for the whole outage).
 */
export function logRedisOutages(client: Redis, log: Pick<Logger, 'warn' | 'info'>, name: string): void {
  let downSince: number | null = null;
  client.on('error', (error: Error) => {
    if (downSince !== null) return;
    downSince = Date.now();
    log.warn('Redis unreachable', { client: name, error: error.message });
  });
  client.on('ready', () => {
    if (downSince === null) return;
    log.info('Redis reachable again', { client: name, downMs: Date.now() - downSince });
    downSince = null;
  });
}
