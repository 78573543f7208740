import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { writeEventStream } from '../../core/adapters/sse-writer.js';
import { formatViewerAddress } from '../../core/contracts/viewer-address.js';
import type { HttpRequest } from '../../core/http.js';
import type { TlsMaterial } from './cert.js';
import type { Edge } from './edge.js';

/** Largest API request body the edge accepts (CloudFront's limit for a Lambda origin is larger; APIs send small JSON). */
const MAX_BODY_BYTES = 1 << 20;

/** Hop-by-hop headers are illegal in HTTP/2 responses. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export interface EdgeServer {
  /** HTTPS with HTTP/2 (and HTTP/1.1 by ALPN fallback). */
  readonly httpsPort: number;
  /** Plain HTTP/1.1, for curl and scripts. */
  readonly httpPort: number;
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * Puts the edge on two sockets: HTTPS (HTTP/2 with HTTP/1.1 fallback, like CloudFront) and plain
 * HTTP/1.1. Ports 0 pick free ones.
 */
export async function listenEdge(
  edge: Edge,
  options: { tls: TlsMaterial; httpsPort: number; httpPort: number; host?: string },
): Promise<EdgeServer> {
  const host = options.host ?? '127.0.0.1';
  const onRequest = (req: AnyRequest, res: AnyResponse) => {
    serve(edge, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(`edge error: ${error instanceof Error ? error.message : String(error)}\n`);
      } else res.end();
    });
  };
  const secure: Http2SecureServer = createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest);
  const plain: Server = createHttpServer(onRequest);
  plain.keepAliveTimeout = 65_000;
  await Promise.all([listen(secure, options.httpsPort, host), listen(plain, options.httpPort, host)]);
  const sessions = new Set<{ destroy(): void }>();
  secure.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    httpsPort: (secure.address() as AddressInfo).port,
    httpPort: (plain.address() as AddressInfo).port,
    async close() {
      for (const session of sessions) session.destroy();
      plain.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => secure.close(() => resolve())),
        new Promise<void>((resolve) => plain.close(() => resolve())),
      ]);
    },
  };
}

async function listen(server: Server | Http2SecureServer, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} is in use. Fix: stop what uses it (ss -ltnp 'sport = :${port}') or pass another --port`,
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function serve(edge: Edge, req: AnyRequest, res: AnyResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://edge');
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const method = req.method ?? 'GET';
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
    body = await readBody(req);
    if (body === undefined) {
      res.statusCode = 413;
      res.end('request body too large\n');
      return;
    }
  }
  const request: HttpRequest = {
    method,
    path: url.pathname,
    query,
    headers,
    body,
    sourceIp: req.socket?.remoteAddress,
  };
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  const socket = req.socket;
  // The connection as CloudFront names it in CloudFront-Viewer-Address.
  const clientId =
    socket?.remoteAddress === undefined
      ? undefined
      : formatViewerAddress(socket.remoteAddress, socket.remotePort ?? 0);
  const response = await edge.handle(request, abort.signal, clientId);
  if (abort.signal.aborted) return;
  if (response.stream) {
    // Server-Sent Events (D44): headers now, then each chunk as it comes; no length, no buffering.
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== 'content-length') res.setHeader(name, value);
    }
    await writeEventStream(res as ServerResponse, response.stream, abort);
    return;
  }
  const bytes = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'content-length') res.setHeader(name, value);
  }
  if (response.cookies) res.setHeader('set-cookie', [...response.cookies]);
  res.setHeader('content-length', String(bytes.byteLength));
  // Both response flavours accept a chunk; the union of their overloads does not type-check as one call.
  (res as ServerResponse).end(bytes);
}

async function readBody(req: AnyRequest): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
