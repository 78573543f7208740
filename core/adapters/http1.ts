import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * One HTTP/1.1 POST on a connection of its own, written on node:net or node:tls directly (decision D47, amended): the
 * functions' signed Secrets Manager reads at cold start. node:http's first request costs about 7 ms more CPU than the
 * same exchange on a socket (its agent, parser and outgoing-message machinery warming up), and the functions send
 * one kind of request a few times per instance. TLS as node:https does it: the system's CA store, the host's name
 * checked (SNI by name). `Connection: close`, so the response ends with the connection at the latest; its body is
 * read by Content-Length, chunked transfer coding, or to the end, and bounded.
 */

export interface Http1Response {
  readonly status: number;
  readonly body: string;
}

/** A response larger than this is refused (a Secrets Manager answer is at most about 90 KB: 64 KB of secret, JSON). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export interface Http1PostOptions {
  /** Idle time after which the exchange fails with `onTimeout()`'s error (node:http's `timeout` alike). */
  readonly timeoutMs: number;
  readonly onTimeout: () => Error;
  /** Trusted CAs instead of the system's (tests with a self-signed certificate). */
  readonly ca?: string | Buffer;
}

/** POSTs `body` to `url` (http: or https:) with `headers`; resolves with any status, rejects on network failure. */
export function post1(
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: Http1PostOptions,
): Promise<Http1Response> {
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const head = [`POST ${url.pathname || '/'}${url.search} HTTP/1.1`];
  const lower = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  if (!lower.has('host')) head.push(`host: ${url.host}`);
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name}: line break`);
    head.push(`${name}: ${value}`);
  }
  head.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body);
  const request = head.join('\r\n');
  return new Promise((resolve, reject) => {
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ca: options.ca })
      : netConnect({ host, port });
    const reader = new ResponseReader();
    let settled = false;
    const settle = (error: Error | undefined, response?: Http1Response) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    socket.setTimeout(options.timeoutMs, () => settle(options.onTimeout()));
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      try {
        const response = reader.push(chunk);
        if (response) settle(undefined, response);
      } catch (error) {
        settle(error as Error);
      }
    });
    socket.on('end', () => {
      try {
        settle(undefined, reader.end());
      } catch (error) {
        settle(error as Error);
      }
    });
    socket.on('error', (error) => settle(error));
    socket.on('close', () => settle(new Error('connection closed before a response')));
  });
}

/** Reads one HTTP/1.1 response from its bytes: `push` answers once the body is complete, `end` at end of stream. */
export class ResponseReader {
  private buffer = Buffer.alloc(0);
  private status: number | undefined;
  private bodyStart = 0;
  private framing: { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' } | undefined;

  push(chunk: Buffer): Http1Response | undefined {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_RESPONSE_BYTES) throw new Error(`response over ${MAX_RESPONSE_BYTES} bytes`);
    if (this.framing === undefined && !this.readHead()) return undefined;
    return this.complete();
  }

  /** The connection ended: the response, if its framing allows it to end here. */
  end(): Http1Response {
    if (this.framing === undefined) throw new Error('connection closed inside the response head');
    const done = this.complete();
    if (done) return done;
    if (this.framing.kind === 'close') return this.answer(this.buffer.subarray(this.bodyStart));
    throw new Error('connection closed inside the response body');
  }

  private readHead(): boolean {
    const at = this.buffer.indexOf(HEADER_END);
    if (at < 0) return false;
    const [statusLine = '', ...lines] = this.buffer.subarray(0, at).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) throw new Error(`not an HTTP/1.1 response: ${statusLine.slice(0, 40)}`);
    this.status = Number(match[1]);
    const fields = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.bodyStart = at + HEADER_END.length;
    const length = fields.get('content-length');
    if (/chunked/i.test(fields.get('transfer-encoding') ?? '')) this.framing = { kind: 'chunked' };
    else if (length !== undefined && /^\d+$/.test(length))
      this.framing = { kind: 'length', bytes: Number(length) };
    else this.framing = { kind: 'close' };
    return true;
  }

  private complete(): Http1Response | undefined {
    const body = this.buffer.subarray(this.bodyStart);
    if (this.framing?.kind === 'length') {
      return body.length >= this.framing.bytes
        ? this.answer(body.subarray(0, this.framing.bytes))
        : undefined;
    }
    if (this.framing?.kind === 'chunked') {
      const decoded = dechunk(body);
      return decoded === undefined ? undefined : this.answer(decoded);
    }
    return undefined;
  }

  private answer(body: Buffer): Http1Response {
    return { status: this.status!, body: body.toString('utf8') };
  }
}

/** A chunked body's bytes once its last chunk has arrived (trailers ignored), else undefined. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
