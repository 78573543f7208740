import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Server } from './s3.js';

/**
 * What a matching request gets instead of s3rver's answer: `error` a 500 InternalError (S3's XML), `drop` a
 * connection reset before any answer, `hold` no answer at all (until the client gives up or the proxy stops),
 * `delay` s3rver's answer, `delayMs` late.
 */
export type FaultMode = 'error' | 'drop' | 'hold' | 'delay';

export interface FaultRule {
  readonly mode: FaultMode;
  /** Only this method (PUT, GET); any when absent. */
  readonly method?: string;
  /** Only object keys matching this (the path after the bucket); any when absent. */
  readonly key?: RegExp;
  /** For `delay`. */
  readonly delayMs?: number;
}

export interface SeenRequest {
  readonly method: string;
  readonly key: string;
  /** The fault applied, if any. */
  readonly fault?: FaultMode;
}

export interface S3FaultProxy {
  /** `http://127.0.0.1:{port}`: give it to an S3Client as its endpoint (path style). */
  readonly endpoint: string;
  readonly bucket: string;
  /** Every request, in arrival order. */
  readonly seen: SeenRequest[];
  /** Applies `rule` until the returned function is called (rules added later are checked first). */
  fail(rule: FaultRule): () => void;
  clear(): void;
  /** A client of the proxy, as the ingest builds its own (SDK defaults unless overridden). */
  client(options?: { maxAttempts?: number }): S3Client;
  stop(): Promise<void>;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>' +
  '<Message>injected by the test fault proxy</Message></Error>';

/**
 * An HTTP proxy in front of s3rver that fails chosen requests, so the real S3 client and the real S3 wire protocol
 * meet the failures S3 has (500s, resets, requests that hang). Everything else is passed through byte for byte
 * (headers included, so request signatures stay valid).
 */
export async function startS3FaultProxy(upstream: S3Server): Promise<S3FaultProxy> {
  const target = new URL(upstream.endpoint);
  let rules: FaultRule[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const key = decodeURIComponent(path.split('/').slice(2).join('/'));
    const method = req.method ?? 'GET';
    const rule = rules.find(
      (r) => (r.method === undefined || r.method === method) && (r.key === undefined || r.key.test(key)),
    );
    seen.push({ method, key, ...(rule ? { fault: rule.mode } : {}) });
    switch (rule?.mode) {
      case undefined:
        forward(req, res);
        return;
      case 'delay':
        setTimeout(() => forward(req, res), rule.delayMs ?? 0);
        return;
      case 'error':
        req.resume();
        req.on('end', () => {
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end(INTERNAL_ERROR);
        });
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'hold':
        req.resume(); // read the body, never answer
        return;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    bucket: upstream.bucket,
    seen,
    fail(rule) {
      rules = [rule, ...rules];
      return () => {
        rules = rules.filter((r) => r !== rule);
      };
    },
    clear() {
      rules = [];
    },
    client: (options = {}) =>
      new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        ...options,
      }),
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
