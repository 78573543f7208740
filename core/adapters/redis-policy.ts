import { UnavailableError } from '../api/errors.js';
import type { Logger } from '../logger.js';

/**
 * How every Mirror process rides out a Redis failover or outage (decision D18), without the client: the timeouts,
 * the backoff, which reply errors mean "wrong node", and which failures are an outage (503) rather than a bug. The
 * ioredis options (redis.ts: ingest, embedded default) and the functions' RESP client (resp/client.ts, D47) are
 * both built from these, and the functions import this module alone, so their bundles carry no ioredis.
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
/**
 * The functions' client (D47) holds at most this many commands, sent and unsent; one more is refused at once (503).
 * A healthy instance has a few dozen in flight (one request at a time, a handful of commands each; the manifest's
 * blocking waits hold none); 1,000 is only reached when a hung node answers nothing, and then bounds the memory.
 */
export const REDIS_MAX_PENDING = 1000;
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
/**
 * What ioredis says when a command never reached a server or got no reply in time; the RESP client says the first
 * two too, and the last when its pending queue is full (REDIS_MAX_PENDING).
 */
const CLIENT_MESSAGES = [
  'Command timed out',
  'Connection is closed.',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'Redis pending queue is full',
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

/** The two events of a client (ioredis or RESP) that tell an outage's start and end. */
export interface OutageEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * Logs a client's outage once: a warning at the first error, an info line when it is ready again (ioredis emits
 * 'error' at every failed reconnection attempt, which would be one line per second for the whole outage).
 */
export function logRedisOutages(
  client: OutageEvents,
  log: Pick<Logger, 'warn' | 'info'>,
  name: string,
): void {
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
