import { decodeReply, RespError, type RespValue } from './codec.js';
import type { RedisArg, RedisMulti } from './port.js';

/**
 * The pure half of the functions' Redis client (decision D47): the URL, the reply shapes ioredis gives (HGETALL as
 * an object, EXEC as [error, result] pairs), pub/sub pushes, and MULTI blocks collected before they are sent.
 */

export function toObject(reply: unknown): Record<string, string> {
  const list = (reply ?? []) as string[];
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) object[list[i] as string] = list[i + 1] as string;
  return object;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
}

/** redis://[user[:password]@]host[:port][/db], rediss:// for TLS (ElastiCache in-transit encryption). */
export function parseRedisUrl(url: string): Endpoint {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a Redis URL: ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`bad Redis database in ${u.pathname}`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
  };
}

export function isPush(reply: RespValue[]): boolean {
  const kind = reply[0];
  return reply.length === 3 && Buffer.isBuffer(kind) && kind.length === 7 && kind.toString() === 'message';
}

/** EXEC's reply as ioredis gives it: [error, result] per command, or the reason the transaction did not run. */
export function execReplies(replies: readonly RespValue[]): [Error | null, unknown][] | null {
  const exec = replies.at(-1) as RespValue;
  if (exec instanceof RespError) {
    // EXECABORT says only "previous errors": the first of them (READONLY, NOPERM, ...) is the cause that matters.
    const first = replies.slice(1, -1).find((r) => r instanceof RespError);
    throw first === undefined ? exec : new RespError(exec.message, { cause: first });
  }
  if (exec === null) return null;
  return (exec as RespValue[]).map((r) => (r instanceof RespError ? [r, null] : [null, decodeReply(r)]));
}

/** MULTI ... EXEC: the commands queued in order, sent as one write with their MULTI and EXEC. */
export class Transaction implements RedisMulti {
  private readonly commands: RedisArg[][] = [];
  constructor(private readonly run: (commands: readonly RedisArg[][]) => Promise<unknown>) {}
  private add(args: RedisArg[]): this {
    this.commands.push(args);
    return this;
  }
  set(key: string, value: RedisArg, ...options: RedisArg[]): this {
    return this.add(['SET', key, value, ...options]);
  }
  del = (key: string) => this.add(['DEL', key]);
  hset = (key: string, field: string, value: RedisArg) => this.add(['HSET', key, field, value]);
  expire = (key: string, seconds: number) => this.add(['EXPIRE', key, seconds]);
  zadd = (key: string, ...scoreMembers: RedisArg[]) => this.add(['ZADD', key, ...scoreMembers]);
  zrem = (key: string, ...members: string[]) => this.add(['ZREM', key, ...members]);
  zcount = (key: string, min: RedisArg, max: RedisArg) => this.add(['ZCOUNT', key, min, max]);
  publish = (channel: string, message: string) => this.add(['PUBLISH', channel, message]);
  exec(): Promise<[Error | null, unknown][] | null> {
    return this.run(this.commands) as Promise<[Error | null, unknown][] | null>;
  }
}
