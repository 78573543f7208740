import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitKey } from '../../core/adapters/sessions/ratelimit.js';
import { STREAM_LIST_PATH } from '../../core/contracts/api-paths.js';
import { rateLimitSubject, VIEWER_ADDRESS_HEADER, viewerIp } from '../../core/contracts/viewer-address.js';
import type { HttpApp } from '../../core/http.js';
import { limitedAddress } from '../../functions/session/app.js';
import { selfSignedCertificate } from '../../local/edge/cert.js';
import { Edge } from '../../local/edge/edge.js';
import { type EdgeServer, listenEdge } from '../../local/edge/server.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { createStreams, sessionApp } from './helpers.js';

/**
 * The per-address rate limit counts the viewer, not the edge in front of it and not what the client claims (D27):
 * behind CloudFront the API's source address is an edge server shared by many viewers, so the limit keys on
 * CloudFront-Viewer-Address, which CloudFront (and the local edge) set from the connection, replacing the client's.
 */

describe('the address a request is counted against', () => {
  it('reads CloudFront-Viewer-Address in both of its forms, IPv6 counted per /64', () => {
    expect(viewerIp('198.51.100.10:46532')).toBe('198.51.100.10');
    expect(viewerIp('2001:db8:85a3::8a2e:370:7334:46532')).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(viewerIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(rateLimitSubject('2001:db8:85a3:1:8a2e:370:7334:1')).toBe('2001:db8:85a3:1::/64');
    expect(rateLimitSubject('2001:db8:85a3:1::9')).toBe('2001:db8:85a3:1::/64');
    expect(rateLimitSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
    for (const bad of ['', 'nonsense', '198.51.100.10', 'x:1', '1:2:3:4:5:6:7:8:9:10:80']) {
      expect(viewerIp(bad), bad).toBeUndefined();
    }
  });

  it('keys on the forwarded viewer address, never on X-Forwarded-For, else on the source address', () => {
    const edgeIp = '130.176.0.1'; // a CloudFront edge server, in front of many viewers
    const viewer = (address: string | undefined, extra: Record<string, string> = {}) =>
      limitedAddress({
        sourceIp: edgeIp,
        headers: { ...extra, ...(address ? { [VIEWER_ADDRESS_HEADER]: address } : {}) },
      });
    expect(viewer('198.51.100.10:1000')).toBe('198.51.100.10');
    expect(viewer('198.51.100.11:1000')).toBe('198.51.100.11');
    expect(viewer('198.51.100.10:1000', { 'x-forwarded-for': '203.0.113.99' })).toBe('198.51.100.10');
    // A caller reaching API Gateway without CloudFront: its own source address, whatever it writes in XFF.
    expect(viewer(undefined, { 'x-forwarded-for': '203.0.113.99' })).toBe(edgeIp);
    expect(viewer('garbage')).toBe(edgeIp);
  });
});

describe('through the local edge on a real socket', () => {
  let redis: RedisServer;
  let server: EdgeServer;
  let dir: string;
  let sessionCalls = 0;
  const BURST = 4;

  beforeAll(async () => {
    redis = await startRedis();
    const client = redis.client();
    await createStreams(client, ['cam-a']);
    // Refills one token per 1000 s: the test sees the burst and nothing more.
    const app = sessionApp(client, { rateLimit: { perSecond: 0.001, burst: BURST } });
    const counted: HttpApp = {
      handle: (request, signal) => {
        sessionCalls++;
        return app.handle(request, signal);
      },
    };
    const nothing: HttpApp = { handle: async () => ({ status: 404, headers: {}, body: '' }) };
    dir = mkdtempSync(join(tmpdir(), 'mirror-viewer-address-'));
    server = await listenEdge(new Edge({ manifest: nothing, media: nothing, session: counted }), {
      tls: selfSignedCertificate(join(dir, 'tls')),
      httpsPort: 0,
      httpPort: 0,
    });
  });

  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const url = (path: string) => `http://127.0.0.1:${server.httpPort}${path}`;

  it('caches the shared stream list for its TTL: one session call for many viewers', async () => {
    const before = sessionCalls;
    const first = await fetch(url(STREAM_LIST_PATH));
    const second = await fetch(url(STREAM_LIST_PATH), {
      headers: { cookie: 'a=b', authorization: 'Bearer x' },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=2');
    expect(second.headers.get('x-cache')).toMatch(/^Hit/);
    expect(await second.json()).toEqual(await first.json());
    expect(sessionCalls - before).toBe(1);
  });

  it('ignores a spoofed X-Forwarded-For and CloudFront-Viewer-Address: the socket address is counted', async () => {
    await redis.client().flushall();
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 2; i++) {
      const response = await fetch(url('/api/sessions/openapi.json'), {
        headers: {
          'x-forwarded-for': `203.0.113.${i}`,
          'cloudfront-viewer-address': `198.51.100.${i}:4000`,
          'x-real-ip': `192.0.2.${i}`,
        },
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    // Each request named a new address; all of them took from the one bucket of 127.0.0.1.
    expect(statuses).toEqual([...Array<number>(BURST).fill(200), 429, 429]);
    const keys = await redis.client().keys(rateLimitKey('*'));
    expect(keys).toEqual([rateLimitKey('127.0.0.1')]);
  });
});
