/**
 * The Redis commands Mirror's adapters use, and nothing else (decision D47): the functions run on the small RESP
 * client (client.ts), the ingest and the embedded default on ioredis, and both satisfy this type, so an adapter
 * written against it runs on either. A command an adapter needs is added here (and to the RESP client, whose
 * tests then prove it against redis-server); tsc refuses a call to anything else.
 *
 * Signatures follow ioredis's (same argument order, same reply shapes: `hgetall` as an object, `exec` as
 * [error, result] pairs, `set` as 'OK' or null), so ioredis's `Redis` is assignable to it unchanged.
 */

export type RedisArg = string | number | Buffer;

/** The commands of a MULTI ... EXEC block, chained as in ioredis. */
export interface RedisMulti {
  set(key: string, value: RedisArg): RedisMulti;
  set(key: string, value: RedisArg, nx: 'NX'): RedisMulti;
  del(key: string): RedisMulti;
  hset(key: string, field: string, value: RedisArg): RedisMulti;
  expire(key: string, seconds: number): RedisMulti;
  zadd(key: string, ...scoreMembers: RedisArg[]): RedisMulti;
  zrem(key: string, ...members: string[]): RedisMulti;
  publish(channel: string, message: string): RedisMulti;
  zcount(key: string, min: RedisArg, max: RedisArg): RedisMulti;
  /** null when the transaction was aborted (never here: Mirror does not WATCH). */
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

export interface RedisPort {
  get(key: string): Promise<string | null>;
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: RedisArg): Promise<'OK' | null>;
  set(key: string, value: RedisArg, nx: 'NX'): Promise<'OK' | null>;
  set(key: string, value: RedisArg, px: 'PX', milliseconds: number): Promise<'OK' | null>;
  set(key: string, value: RedisArg, ex: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null>;
  del(key: string): Promise<number>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  mget(keys: string[]): Promise<(string | null)[]>;
  hget(key: string, field: string): Promise<string | null>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  zrange(key: string, start: RedisArg, stop: RedisArg): Promise<string[]>;
  zrangebyscore(key: string, min: RedisArg, max: RedisArg): Promise<string[]>;
  zrevrangebyscore(
    key: string,
    max: RedisArg,
    min: RedisArg,
    limit: 'LIMIT',
    offset: number,
    count: number,
  ): Promise<string[]>;
  zrank(key: string, member: string): Promise<number | null>;
  zcount(key: string, min: RedisArg, max: RedisArg): Promise<number>;
  zremrangebyscore(key: string, min: RedisArg, max: RedisArg): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  xadd(key: string, ...args: RedisArg[]): Promise<string | null>;
  xrevrange(
    key: string,
    end: string,
    start: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[string, string[]][]>;
  publish(channel: string, message: string): Promise<number>;
  eval(script: string, numKeys: number, ...keysAndArgs: RedisArg[]): Promise<unknown>;
  ping(): Promise<string>;
  multi(): RedisMulti;

  /** A subscriber connection: resolves once the server confirms; resubscribed after every reconnect. */
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** A second connection with the same options (a connection that subscribes can run nothing else). */
  duplicate(): RedisPort;

  on(event: 'message', listener: (channel: string, message: string) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'ready' | 'close' | 'end', listener: () => void): this;
  /** Closes at once and for good: pending commands are rejected. */
  disconnect(): void;
}
