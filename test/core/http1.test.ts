import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES, post1 } from '../../core/adapters/http1.js';
import { localhostCertificate } from '../support/tls.js';

// D47, amended: the functions' signed Secrets Manager reads go over this client instead of node:http (7 ms of CPU
// less at cold start). Real servers: node:http's own (Content-Length, chunked), raw sockets for framings and faults it
// never writes, node:https with a self-signed certificate for the TLS path.

const servers: (Server | NetServer)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});
const options = { timeoutMs: 1000, onTimeout: () => new Error('timed out') };

async function listen<S extends Server | NetServer>(server: S): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
const http = (handler: RequestListener) => listen(createHttpServer(handler));
/** A server answering every connection with `bytes`, written in pieces of `piece` bytes. */
const raw = (bytes: string, piece = bytes.length) =>
  listen(
    createNetServer((socket) => {
      socket.once('data', () => {
        for (let i = 0; i < bytes.length; i += piece) socket.write(bytes.slice(i, i + piece));
        socket.end();
      });
    }),
  );

describe('post1', () => {
  it('sends the headers and body as given, and reads a Content-Length answer', async () => {
    const seen: { headers: Record<string, unknown>; body: string; method?: string }[] = [];
    const port = await http((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ headers: req.headers, body, method: req.method });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end('{"__type":"ResourceNotFoundException","message":"é"}');
      });
    });
    const url = new URL(`http://127.0.0.1:${port}/`);
    const answer = await post1(
      url,
      { 'x-amz-target': 'secretsmanager.GetSecretValue' },
      '{"SecretId":"é"}',
      options,
    );
    expect(answer).toEqual({ status: 400, body: '{"__type":"ResourceNotFoundException","message":"é"}' });
    expect(seen).toEqual([
      {
        method: 'POST',
        body: '{"SecretId":"é"}',
        headers: {
          host: `127.0.0.1:${port}`,
          'x-amz-target': 'secretsmanager.GetSecretValue',
          'content-length': String(Buffer.byteLength('{"SecretId":"é"}')),
          connection: 'close',
        },
      },
    ]);
  });

  it('reads a chunked answer (node:http without a length), and one split byte by byte', async () => {
    const port = await http((req, res) => {
      req.resume();
      req.on('end', () => {
        res.write('{"SecretString":');
        setTimeout(() => res.end('"s3cret"}'), 20);
      });
    });
    expect(await post1(new URL(`http://127.0.0.1:${port}/`), {}, '{}', options)).toEqual({
      status: 200,
      body: '{"SecretString":"s3cret"}',
    });
    const split = await raw(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
      1,
    );
    expect(await post1(new URL(`http://127.0.0.1:${split}/`), {}, '{}', options)).toEqual({
      status: 200,
      body: 'abcde',
    });
  });

  it('reads an answer framed by the end of the connection; refuses a truncated or oversized one', async () => {
    const toClose = await raw(
      'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<p>busy</p>',
      5,
    );
    expect(await post1(new URL(`http://127.0.0.1:${toClose}/`), {}, '', options)).toEqual({
      status: 503,
      body: '<p>busy</p>',
    });
    const truncated = await raw('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"SecretString"');
    await expect(post1(new URL(`http://127.0.0.1:${truncated}/`), {}, '', options)).rejects.toThrow(
      /closed inside the response body/,
    );
    const huge = await raw(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(MAX_RESPONSE_BYTES + 1)}`);
    await expect(post1(new URL(`http://127.0.0.1:${huge}/`), {}, '', options)).rejects.toThrow(/over/);
    const notHttp = await raw('-ERR unknown command\r\n\r\n');
    await expect(post1(new URL(`http://127.0.0.1:${notHttp}/`), {}, '', options)).rejects.toThrow(
      /not an HTTP\/1.1 response/,
    );
  });

  it("fails with the caller's error when the server holds the connection, and on a refused one", async () => {
    // Reads the request and never answers (reading, so it sees the client's close).
    const held = await listen(createNetServer((socket) => socket.resume()));
    const started = Date.now();
    await expect(
      post1(new URL(`http://127.0.0.1:${held}/`), {}, '', { ...options, timeoutMs: 200 }),
    ).rejects.toThrow('timed out');
    expect(Date.now() - started).toBeLessThan(1000);
    const closed = await listen(createNetServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(post1(new URL(`http://127.0.0.1:${closed}/`), {}, '', options)).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('speaks TLS with the name checked against the certificate', async () => {
    const { cert, key } = localhostCertificate('mirror-http1-tls-');
    const port = await listen(
      createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
        req.resume();
        req.on('end', () => res.end('{"SecretString":"over tls"}'));
      }),
    );
    const ca = readFileSync(cert);
    expect(await post1(new URL(`https://localhost:${port}/`), {}, '{}', { ...options, ca })).toEqual({
      status: 200,
      body: '{"SecretString":"over tls"}',
    });
    // The system's CAs do not know it; and a name the certificate does not carry is refused even with the CA.
    await expect(post1(new URL(`https://localhost:${port}/`), {}, '{}', options)).rejects.toThrow(
      /self-signed|certificate/,
    );
    await expect(post1(new URL(`https://127.0.0.1:${port}/`), {}, '{}', { ...options, ca })).rejects.toThrow(
      /IP: 127.0.0.1 is not in the cert's list|altnames/,
    );
  });
});
