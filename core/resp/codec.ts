/**
 * RESP2, the Redis wire protocol, as pure code (decision D47): commands encoded as arrays of bulk strings, replies
 * parsed incrementally from whatever chunks the socket delivers. The functions' Redis client
 * (core/adapters/resp/client.ts) is this plus a socket; RESP2 because every Redis and ElastiCache version speaks it
 * without a HELLO round trip, and Mirror needs none of RESP3's types.
 */

/** A command argument: numbers are sent as their decimal text, Buffers as they are. */
export type RespArg = string | number | Buffer;

/** A reply: simple strings and bulk strings as Buffers (the caller decodes), integers as numbers, nil as null. */
export type RespValue = Buffer | number | null | RespError | RespValue[];

/** An error reply (`-ERR ...`): a value, not a throw, so one bad reply in a MULTI does not lose the others. */
export class RespError extends Error {
  override readonly name = 'ReplyError';
}

const CRLF = Buffer.from('\r\n');

/** Pure: one command as RESP (an array of bulk strings). */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(typeof arg === 'number' ? String(arg) : arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Why a parse stopped: not enough bytes yet (how many the reply needs in all, when known). */
const INCOMPLETE = Symbol('incomplete');
interface Parsed {
  readonly value: RespValue;
  readonly end: number;
}

/**
 * Bounds on what a reply may claim, so a corrupt or hostile stream cannot make the parser allocate without limit:
 * Redis's own proto-max-bulk-len default (512 MB) is far above anything Mirror stores (a part is < 1 MB).
 */
export const RESP_MAX_BULK_BYTES = 64 * 1024 * 1024;
export const RESP_MAX_ARRAY_LENGTH = 1_000_000;

/** A protocol violation: the connection cannot be trusted any more (the client drops it). */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

/**
 * Incremental reply parser. `push` takes a chunk and returns every reply it completes, in order. A partial reply is
 * kept; a large bulk string (a part's bytes) is assembled once from its chunks rather than re-parsed at each one.
 */
export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the partial reply at the buffer's start needs before another parse can succeed (0: unknown). */
  private needed = 0;

  push(chunk: Buffer): RespValue[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buffer.length + this.pendingBytes < this.needed) return [];
    this.buffer =
      this.buffer.length === 0 && this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat([this.buffer, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 0;
    const replies: RespValue[] = [];
    let offset = 0;
    while (offset < this.buffer.length) {
      const parsed = this.parse(offset);
      if (parsed === INCOMPLETE) break;
      replies.push(parsed.value);
      offset = parsed.end;
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
    if (this.needed > 0) this.needed -= offset;
    return replies;
  }

  /** Drops a partial reply (the connection it came from is gone). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 0;
  }

  private line(offset: number): { text: string; end: number } | typeof INCOMPLETE {
    const cr = this.buffer.indexOf(13, offset);
    if (cr === -1 || cr + 1 >= this.buffer.length) return INCOMPLETE;
    if (this.buffer[cr + 1] !== 10) throw new RespProtocolError('CR without LF in a reply line');
    return { text: this.buffer.toString('utf8', offset + 1, cr), end: cr + 2 };
  }

  private length(text: string, max: number): number {
    if (!/^-?\d{1,10}$/.test(text)) throw new RespProtocolError(`bad length ${JSON.stringify(text)}`);
    const n = Number(text);
    if (n < -1 || n > max) throw new RespProtocolError(`length ${n} out of bounds`);
    return n;
  }

  private parse(offset: number): Parsed | typeof INCOMPLETE {
    const type = this.buffer[offset];
    const line = this.line(offset);
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 0x2b: // '+'
        return { value: Buffer.from(line.text), end: line.end };
      case 0x2d: // '-'
        return { value: new RespError(line.text), end: line.end };
      case 0x3a: {
        // ':'
        const n = Number(line.text);
        if (!Number.isFinite(n)) throw new RespProtocolError(`bad integer ${JSON.stringify(line.text)}`);
        return { value: n, end: line.end };
      }
      case 0x24: {
        // '$'
        const size = this.length(line.text, RESP_MAX_BULK_BYTES);
        if (size === -1) return { value: null, end: line.end };
        const end = line.end + size + 2;
        if (end > this.buffer.length) {
          this.needed = end; // absolute in the buffer: a lower bound for the reply that contains it
          return INCOMPLETE;
        }
        // A copy: the reply outlives the socket chunk it came in, which would otherwise stay referenced.
        return { value: Buffer.from(this.buffer.subarray(line.end, line.end + size)), end };
      }
      case 0x2a: {
        // '*'
        const count = this.length(line.text, RESP_MAX_ARRAY_LENGTH);
        if (count === -1) return { value: null, end: line.end };
        const items: RespValue[] = [];
        let at = line.end;
        for (let i = 0; i < count; i++) {
          const item = this.parse(at);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.value);
          at = item.end;
        }
        return { value: items, end: at };
      }
      default:
        throw new RespProtocolError(`unknown reply type byte ${String(type)}`);
    }
  }
}

/** Pure: a reply with its bulk and simple strings decoded as UTF-8 (what ioredis returns for non-Buffer calls). */
export function decodeReply(value: RespValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(decodeReply);
  return value;
}
