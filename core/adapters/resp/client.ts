import { EventEmitter } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decodeReply, encodeCommand, RespError, RespParser, type RespValue } from '../../resp/codec.js';
import {
  type Endpoint,
  execReplies,
  isPush,
  parseRedisUrl,
  Transaction,
  toObject,
} from '../../resp/commands.js';
import type { RedisArg, RedisMulti, RedisPort } from '../../resp/port.js';

/**
 * The functions' Redis client (decision D47): the commands of `RedisPort` over one socket, for the three Lambda
 * functions, whose cold start ioredis cost about 41 ms of module load. The ingest and the embedded default keep
 * ioredis (auto-resend, cluster, the whole command set: a long-running task may need them, a function does not).
 *
 * What it keeps of D18's behaviour (each proven against redis-server by test/core/resp-client.test.ts):
 * - connect timeout, command timeout (a timed-out command's reply is awaited and dropped, so replies stay in order;
 *   a command still waiting to be sent is never sent);
 * - reconnect with backoff, never giving up, a fresh password (an IAM token) read at every connection, the
 *   subscriptions restored before 'ready';
 * - a reply error that means "wrong node" (READONLY, MASTERDOWN: `reconnectOnError`) rejects its command and
 *   reconnects; nothing is resent (a resent command could run outside the MULTI it belonged to);
 * - commands issued while disconnected wait for one connection attempt at most, none once an attempt has failed
 *   (fail fast: a function answers 503 at once instead of holding its caller), and never more than `maxPending`
 *   in all (sent and unsent), so a hung node cannot pile up memory;
 * - commands issued in one tick leave in one write (ioredis's auto-pipelining).
 */

export interface RespClientOptions {
  /** The ACL user; else the URL's, else `default`. */
  readonly username?: string;
  /** A password, or a getter called at every connection (an IAM token is valid for 15 minutes). */
  readonly password?: string | (() => string);
  /** CLIENT SETNAME at every connection. */
  readonly connectionName?: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Delay before reconnection attempt n (1, 2, ...). */
  readonly retryDelayMs: (attempt: number) => number;
  /** True for a reply error after which the connection should be replaced. */
  readonly reconnectOnError: (error: Error) => boolean;
  /** Commands sent and unsent at most; one more is refused at once. */
  readonly maxPending: number;
  /** rediss:// only: CAs to trust instead of Node's bundled ones (tests; ElastiCache's certificates are public). */
  readonly ca?: string | Buffer;
}

/** What the client says when a command found no usable connection (matched by isRedisUnavailable). */
export const CONNECTION_CLOSED = 'Connection is closed.';
export const COMMAND_TIMED_OUT = 'Command timed out';
export const QUEUE_FULL = 'Redis pending queue is full';

/** Redis 6+ and Redis 5 saying that the default user has no password. */
const NO_PASSWORD_NEEDED = /without any password configured|no password is set/;

type Finish = (replies: RespValue[]) => unknown;

interface Command {
  readonly payload: Buffer;
  /** Replies the command takes (SUBSCRIBE: one per channel; MULTI ... EXEC: one per command plus two). */
  readonly replies: number;
  readonly got: RespValue[];
  readonly finish: Finish;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer?: NodeJS.Timeout;
  settled: boolean;
  /** The client's failed attempts when the command was issued. */
  queuedAt: number;
}

type State = 'connecting' | 'ready' | 'waiting' | 'end';

const decodeOne: Finish = (replies) => decodeReply(replies[0] as RespValue);
const closed = (cause?: unknown) => new Error(CONNECTION_CLOSED, cause === undefined ? {} : { cause });

export class RespClient extends EventEmitter implements RedisPort {
  private readonly endpoint: Endpoint;
  private readonly parser = new RespParser();
  private socket: Socket | undefined;
  private state: State = 'connecting';
  /** Failed connection attempts since the last 'ready'. */
  private failures = 0;
  private readonly unsent: Command[] = [];
  private readonly inflight: Command[] = [];
  private outbox: Buffer[] = [];
  private readonly channels = new Set<string>();
  private subscriber = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The last socket or wrong-node error: the cause of the "Connection is closed." that follows it. */
  private lastError: unknown;

  constructor(
    private readonly url: string,
    private readonly options: RespClientOptions,
  ) {
    super();
    this.endpoint = parseRedisUrl(url);
    this.connect();
  }

  // ---- commands (RedisPort) ----
  get = (key: string) => this.send<string | null>(['GET', key]);
  getBuffer = (key: string) => this.send<Buffer | null>(['GET', key], (r) => r[0]);
  set(key: string, value: RedisArg, ...options: RedisArg[]): Promise<'OK' | null> {
    return this.send(['SET', key, value, ...options]);
  }
  del = (key: string) => this.send<number>(['DEL', key]);
  mget(...keys: (string | string[])[]): Promise<(string | null)[]> {
    return this.send(['MGET', ...keys.flat()]);
  }
  hget = (key: string, field: string) => this.send<string | null>(['HGET', key, field]);
  hdel = (key: string, ...fields: string[]) => this.send<number>(['HDEL', key, ...fields]);
  hgetall = (key: string) =>
    this.send<Record<string, string>>(['HGETALL', key], (r) => toObject(decodeOne(r)));
  zrange = (key: string, start: RedisArg, stop: RedisArg) =>
    this.send<string[]>(['ZRANGE', key, start, stop]);
  zrangebyscore = (key: string, min: RedisArg, max: RedisArg) =>
    this.send<string[]>(['ZRANGEBYSCORE', key, min, max]);
  zrevrangebyscore = (key: string, max: RedisArg, min: RedisArg, ...options: RedisArg[]) =>
    this.send<string[]>(['ZREVRANGEBYSCORE', key, max, min, ...options]);
  zrank = (key: string, member: string) => this.send<number | null>(['ZRANK', key, member]);
  zcount = (key: string, min: RedisArg, max: RedisArg) => this.send<number>(['ZCOUNT', key, min, max]);
  zremrangebyscore = (key: string, min: RedisArg, max: RedisArg) =>
    this.send<number>(['ZREMRANGEBYSCORE', key, min, max]);
  lrange = (key: string, start: number, stop: number) => this.send<string[]>(['LRANGE', key, start, stop]);
  xadd = (key: string, ...args: RedisArg[]) => this.send<string | null>(['XADD', key, ...args]);
  xrevrange = (key: string, end: string, start: string, ...options: RedisArg[]) =>
    this.send<[string, string[]][]>(['XREVRANGE', key, end, start, ...options]);
  publish = (channel: string, message: string) => this.send<number>(['PUBLISH', channel, message]);
  eval = (script: string, numKeys: number, ...keysAndArgs: RedisArg[]) =>
    this.send<unknown>(['EVAL', script, numKeys, ...keysAndArgs]);
  // A subscribed connection answers PING with ["pong", ""]: the same 'PONG' either way.
  ping = () => this.send<string>(['PING'], (r) => (Array.isArray(r[0]) ? 'PONG' : decodeOne(r)));
  multi(): RedisMulti {
    return new Transaction((commands) => this.transaction(commands));
  }

  subscribe(...channels: string[]): Promise<unknown> {
    this.subscriber = true;
    return this.send(
      ['SUBSCRIBE', ...channels],
      (replies) => {
        for (const channel of channels) this.channels.add(channel);
        return (replies.at(-1) as RespValue[])[2];
      },
      channels.length,
    );
  }
  unsubscribe(...channels: string[]): Promise<unknown> {
    for (const channel of channels) this.channels.delete(channel);
    return this.send(
      ['UNSUBSCRIBE', ...channels],
      (replies) => (replies.at(-1) as RespValue[])[2],
      channels.length,
    );
  }

  /** Any command, its reply decoded (tests and tools; the adapters use the typed methods above). */
  command(...args: RedisArg[]): Promise<unknown> {
    return this.send(args);
  }

  duplicate(): RespClient {
    return new RespClient(this.url, this.options);
  }

  /** Closes at once and for good: every pending command is rejected. */
  disconnect(): void {
    if (this.state === 'end') return;
    this.state = 'end';
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.failAll(closed());
    this.emit('end');
  }

  /** Commands waiting for a reply or for a connection (for tests and the bound). */
  get pending(): number {
    return this.unsent.length + this.inflight.length;
  }

  // ---- sending ----
  private send<T>(args: RedisArg[], finish: Finish = decodeOne, replies = 1): Promise<T> {
    return this.enqueue(encodeCommand(args), finish, replies) as Promise<T>;
  }

  private transaction(commands: readonly RedisArg[][]): Promise<unknown> {
    const payload = Buffer.concat([
      encodeCommand(['MULTI']),
      ...commands.map((args) => encodeCommand(args)),
      encodeCommand(['EXEC']),
    ]);
    return this.enqueue(payload, execFinish, commands.length + 2);
  }

  private enqueue(payload: Buffer, finish: Finish, replies: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.state === 'end') return reject(closed());
      // A reconnection attempt has failed already: Redis is down, answer now rather than after the timeout.
      if (this.state !== 'ready' && this.failures >= 2) return reject(closed(this.lastError));
      if (this.pending >= this.options.maxPending) return reject(new Error(QUEUE_FULL));
      const command: Command = {
        payload,
        replies,
        got: [],
        finish,
        resolve,
        reject,
        settled: false,
        queuedAt: this.failures,
      };
      command.timer = setTimeout(() => this.timeOut(command), this.options.commandTimeoutMs);
      if (this.state === 'ready') this.write(command);
      else this.unsent.push(command);
    });
  }

  private timeOut(command: Command): void {
    if (command.settled) return;
    command.settled = true;
    // Not yet sent: never send it. Sent: its slot stays in `inflight` until its reply (or the connection) goes.
    const index = this.unsent.indexOf(command);
    if (index >= 0) this.unsent.splice(index, 1);
    command.reject(new Error(COMMAND_TIMED_OUT));
  }

  private write(command: Command): void {
    this.inflight.push(command);
    this.outbox.push(command.payload);
    // Everything issued in this tick leaves in one write.
    if (this.outbox.length === 1) process.nextTick(() => this.flush());
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0)
      this.socket?.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch));
  }

  // ---- replies ----
  private onReply(reply: RespValue): void {
    if (this.subscriber && Array.isArray(reply) && isPush(reply)) {
      this.emit('message', String(reply[1]), String(reply[2]));
      return;
    }
    const command = this.inflight[0];
    if (command === undefined) {
      this.socket?.destroy(new Error('Redis sent a reply nobody asked for'));
      return;
    }
    command.got.push(reply);
    if (reply instanceof RespError && this.options.reconnectOnError(reply)) this.replaceConnection(reply);
    if (command.got.length < command.replies) return;
    this.inflight.shift();
    if (command.settled) return;
    command.settled = true;
    clearTimeout(command.timer);
    const error = command.replies === 1 ? reply : command.got.find((r) => r instanceof RespError);
    if (error instanceof RespError && command.finish !== execFinish) {
      command.reject(error);
      return;
    }
    try {
      command.resolve(command.finish(command.got));
    } catch (failure) {
      command.reject(failure);
    }
  }

  /** Wrong node: this connection's later replies are worthless; the next one resolves the endpoint again. */
  private replaceConnection(reason: Error): void {
    if (this.state !== 'ready') return;
    this.lastError = reason;
    // After the current batch of replies: the commands already answered on this connection keep their answers.
    setImmediate(() => this.socket?.destroy());
  }

  // ---- connection ----
  private connect(): void {
    if (this.state === 'end') return;
    this.state = 'connecting';
    this.parser.reset();
    const { host, port, tls } = this.endpoint;
    // SNI takes a name, never an address (ElastiCache endpoints are names).
    const socket = tls
      ? tlsConnect({
          host,
          port,
          ...(isIP(host) ? {} : { servername: host }),
          ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
        })
      : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const connectTimer = setTimeout(() => {
      // Once more around the event loop first: after a long synchronous stretch (a cold start's imports, a loaded
      // machine) the connect and its replies may be waiting in the poll phase, behind this timer.
      setImmediate(() => {
        if (this.socket === socket && this.state === 'connecting') {
          socket.destroy(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
        }
      });
    }, this.options.connectTimeoutMs);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.handshake().then(
        () => {
          clearTimeout(connectTimer);
          this.ready();
        },
        (error: unknown) => socket.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      let replies: RespValue[];
      try {
        replies = this.parser.push(chunk);
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      for (const reply of replies) this.onReply(reply);
    });
    socket.on('error', (error) => {
      this.lastError = error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      if (this.socket === socket) this.lost();
    });
  }

  /** AUTH, name, database and subscriptions, pipelined, before anything else may use the connection. */
  private handshake(): Promise<unknown> {
    const { username, password, connectionName } = this.options;
    const user = username ?? this.endpoint.username;
    const secret = typeof password === 'function' ? password() : (password ?? this.endpoint.password);
    const steps: Promise<unknown>[] = [];
    const direct = (args: RedisArg[], replies = 1) =>
      new Promise((resolve, reject) => {
        const command: Command = {
          payload: encodeCommand(args),
          replies,
          got: [],
          finish: decodeOne,
          resolve,
          reject,
          settled: false,
          queuedAt: 0,
        };
        this.write(command);
      });
    if (secret !== undefined) {
      // A password given to a server that asks none (a local redis-server with an AUTH secret configured): ioredis
      // goes on without it, and so does this client.
      const auth = direct(user ? ['AUTH', user, secret] : ['AUTH', secret]).catch((error: unknown) => {
        if (!NO_PASSWORD_NEEDED.test(String(error))) throw error;
      });
      steps.push(auth);
    }
    if (connectionName) steps.push(direct(['CLIENT', 'SETNAME', connectionName]));
    if (this.endpoint.db !== 0) steps.push(direct(['SELECT', this.endpoint.db]));
    if (this.channels.size > 0) steps.push(direct(['SUBSCRIBE', ...this.channels], this.channels.size));
    return Promise.all(steps);
  }

  private ready(): void {
    if (this.state === 'end') return;
    this.state = 'ready';
    this.failures = 0;
    for (const command of this.unsent.splice(0)) if (!command.settled) this.write(command);
    this.emit('ready');
  }

  private lost(): void {
    const wasReady = this.state === 'ready';
    this.outbox = [];
    const error = closed(this.lastError);
    for (const command of this.inflight.splice(0)) settle(command, error);
    if (this.state === 'end') return;
    // As ioredis with maxRetriesPerRequest 1 (D18): a command waiting for a connection survives one failed
    // attempt and is rejected at the next (the command timeout usually ends it first).
    this.failures = wasReady ? 1 : this.failures + 1;
    if (!wasReady) {
      for (const command of this.unsent.splice(0)) {
        if (this.failures - command.queuedAt >= 2) settle(command, error);
        else this.unsent.push(command);
      }
    }
    this.state = 'waiting';
    this.emit('close');
    this.reconnectTimer = setTimeout(() => this.connect(), this.options.retryDelayMs(this.failures));
  }

  private failAll(error: Error): void {
    for (const command of [...this.inflight.splice(0), ...this.unsent.splice(0)]) settle(command, error);
  }
}

/** EXEC's reply as ioredis gives it (commands.ts); it resolves even when some of the commands failed. */
const execFinish: Finish = (replies) => execReplies(replies);

function settle(command: Command, error: Error): void {
  if (command.settled) return;
  command.settled = true;
  clearTimeout(command.timer);
  command.reject(error);
}
