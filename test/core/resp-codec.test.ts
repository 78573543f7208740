import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeReply,
  encodeCommand,
  RESP_MAX_BULK_BYTES,
  RespError,
  RespParser,
  RespProtocolError,
  type RespValue,
} from '../../core/resp/codec.js';

// RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/), the functions' Redis wire protocol (D47).

/** The test's own RESP writer for replies (the server side, which the codec never writes). */
function wire(value: RespValue): Buffer {
  if (value === null) return Buffer.from('$-1\r\n');
  if (typeof value === 'number') return Buffer.from(`:${value}\r\n`);
  if (value instanceof RespError) return Buffer.from(`-${value.message}\r\n`);
  if (Buffer.isBuffer(value))
    return Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(`*${value.length}\r\n`), ...value.map(wire)]);
}

const reply: fc.Arbitrary<RespValue> = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    fc.integer(),
    fc.constant(null),
    fc.stringMatching(/^[A-Z]{3,8} [ -~]{0,20}$/).map((m) => new RespError(m)),
    fc.array(tie('value'), { maxLength: 5 }),
  ),
})).value;

/** Splits bytes at the given cut points. */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

describe('RESP2 codec', () => {
  it('encodes a command as an array of bulk strings (numbers as text, Buffers as they are)', () => {
    expect(encodeCommand(['SET', 'k', 12, Buffer.from([0, 255])]).toString('latin1')).toBe(
      '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\x00\xff\r\n',
    );
    expect(encodeCommand(['GET', 'é']).toString('latin1')).toBe('*2\r\n$3\r\nGET\r\n$2\r\n\xc3\xa9\r\n');
  });

  it('reads back any reply tree, however the socket splits it, in order', () => {
    fc.assert(
      fc.property(fc.array(reply, { minLength: 1, maxLength: 4 }), fc.array(fc.nat()), (replies, cuts) => {
        const parser = new RespParser();
        const got = chunks(Buffer.concat(replies.map(wire)), cuts).flatMap((c) => parser.push(c));
        expect(got).toEqual(replies);
      }),
    );
  });

  it('reads simple strings, errors as values, integers, nil bulk and nil array', () => {
    const parser = new RespParser();
    const [ok, error, n, nilBulk, nilArray] = parser.push(
      Buffer.from('+OK\r\n-READONLY no\r\n:-7\r\n$-1\r\n*-1\r\n'),
    );
    expect(decodeReply(ok as RespValue)).toBe('OK');
    expect(error).toBeInstanceOf(RespError);
    expect((error as RespError).message).toBe('READONLY no');
    expect(n).toBe(-7);
    expect(nilBulk).toBeNull();
    expect(nilArray).toBeNull();
  });

  it('assembles a large bulk string from many small chunks into one copy', () => {
    const body = Buffer.alloc(300_000, 7);
    const bytes = wire(body);
    const parser = new RespParser();
    const got: RespValue[] = [];
    for (let at = 0; at < bytes.length; at += 1000) got.push(...parser.push(bytes.subarray(at, at + 1000)));
    expect(got).toHaveLength(1);
    expect((got[0] as Buffer).equals(body)).toBe(true);
  });

  it('refuses what is not RESP: an unknown type byte, a length past the bound, CR without LF', () => {
    expect(() => new RespParser().push(Buffer.from('?x\r\n'))).toThrow(RespProtocolError);
    expect(() => new RespParser().push(Buffer.from(`$${RESP_MAX_BULK_BYTES + 1}\r\n`))).toThrow(
      /out of bounds/,
    );
    expect(() => new RespParser().push(Buffer.from('+OK\rX\r\n'))).toThrow(/CR without LF/);
  });
});
