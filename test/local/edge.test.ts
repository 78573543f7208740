import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import { EdgeCache, ERROR_TTL_MS, ttlMs } from '../../local/edge/cache.js';
import { selfSignedCertificate } from '../../local/edge/cert.js';
import { Edge } from '../../local/edge/edge.js';
import { cacheKeyFor, routeFor } from '../../local/edge/routes.js';
import { listenEdge } from '../../local/edge/server.js';
import { createMediaOrigin, createWebOrigin } from '../../local/edge/static-origin.js';

/** An origin that records what reached it and answers after an optional delay. */
function fakeOrigin(
  answer: (request: HttpRequest) => HttpResponse = () => ({
    status: 200,
    headers: { 'cache-control': 'max-age=1', 'content-type': 'application/vnd.apple.mpegurl' },
    body: '#EXTM3U\n',
  }),
  delayMs = 0,
): HttpApp & { calls: HttpRequest[] } {
  const calls: HttpRequest[] = [];
  return {
    calls,
    async handle(request) {
      calls.push(request);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return answer(request);
    },
  };
}

function get(path: string, query: Record<string, string> = {}): HttpRequest {
  return { method: 'GET', path, query, headers: {} };
}

let dir: string;
let mediaDir: string;
let webDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-edge-'));
  mediaDir = join(dir, 'media');
  webDir = join(dir, 'web');
  await mkdir(join(mediaDir, 'cam1', '360p'), { recursive: true });
  await writeFile(join(mediaDir, 'cam1', '360p', 'part-5-0.m4s'), Buffer.from([1, 2, 3, 4]));
  await writeFile(join(mediaDir, 'cam1', '360p', 'seg-5.m4s'), Buffer.from([1, 2, 3, 4]));
  await mkdir(join(webDir, 'operator'), { recursive: true });
  await writeFile(join(webDir, 'index.html'), '<title>viewer</title>');
  await writeFile(join(webDir, 'operator', 'index.html'), '<title>operator</title>');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('routing, as the CloudFront behaviours route', () => {
  it('sends playlists to the manifest app, media to storage, APIs to their apps, the rest to the web app', () => {
    expect(routeFor('/cam1/master.m3u8')).toBe('playlist');
    expect(routeFor('/cam1/360p/playlist.m3u8')).toBe('playlist');
    expect(routeFor('/cam1/360p/part-5-0.m4s')).toBe('media');
    expect(routeFor('/cam1/360p/init-1.mp4')).toBe('media');
    expect(routeFor('/api/control/streams')).toBe('control');
    expect(routeFor('/api/sessions/abc')).toBe('session');
    expect(routeFor('/api/other')).toBe('api');
    expect(routeFor('/')).toBe('web');
    expect(routeFor('/operator/')).toBe('web');
  });

  it('asks the manifest app for a part (the part store, D33), even one storage holds, with no query', async () => {
    const manifest = fakeOrigin(() => ({
      status: 200,
      headers: { 'content-type': 'video/iso.segment', 'cache-control': 'max-age=86400' },
      body: new Uint8Array([9]),
    }));
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const response = await edge.handle(get('/cam1/360p/part-5-0.m4s', { x: '1' }));
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body as Uint8Array)).toEqual(Buffer.from([9]));
    expect(manifest.calls.map((c) => c.path)).toEqual(['/cam1/360p/part-5-0.m4s']);
    expect(manifest.calls[0]?.query).toEqual({});
    expect(edge.stats.origin.parts).toBe(1);
  });

  it('serves segments and init segments from storage without asking the manifest app', async () => {
    const manifest = fakeOrigin();
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const response = await edge.handle(get('/cam1/360p/seg-5.m4s'));
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body as Uint8Array)).toEqual(Buffer.from([1, 2, 3, 4]));
    expect((await edge.handle(get('/cam1/360p/seg-6.m4s'))).status).toBe(404);
    expect(manifest.calls).toHaveLength(0);
    expect(edge.stats.origin.parts).toBe(0);
  });

  it('refuses paths that escape the media directory', async () => {
    const manifest = fakeOrigin(() => ({ status: 404, headers: {}, body: '' }));
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const response = await edge.handle(get('/../web/x.m4s'));
    expect(response.status).toBe(404);
  });

  it('passes APIs through uncached, with the body and the full query', async () => {
    const control = fakeOrigin(() => ({
      status: 200,
      headers: { 'cache-control': 'max-age=60' },
      body: '{}',
    }));
    const session = fakeOrigin(() => ({ status: 201, headers: {}, body: '{}' }));
    const edge = new Edge({ manifest: fakeOrigin(), media: createMediaOrigin(mediaDir), control, session });
    await edge.handle(get('/api/control/streams', { limit: '5' }));
    const second = await edge.handle(get('/api/control/streams', { limit: '5' }));
    expect(second.cache).toBe('uncached');
    expect(control.calls).toHaveLength(2);
    expect(control.calls[0]?.query).toEqual({ limit: '5' });
    await edge.handle({
      method: 'POST',
      path: '/api/sessions',
      query: {},
      headers: {},
      body: '{"layout":"2x2"}',
    });
    expect(session.calls[0]?.body).toBe('{"layout":"2x2"}');
    expect(session.calls[0]?.method).toBe('POST');
  });

  it('serves the web app with index.html for / and /operator/', async () => {
    const edge = new Edge({
      manifest: fakeOrigin(),
      media: createMediaOrigin(mediaDir),
      web: createWebOrigin(webDir),
    });
    expect(String((await edge.handle(get('/'))).body)).toContain('viewer');
    expect(String((await edge.handle(get('/operator/'))).body)).toContain('operator');
    expect((await edge.handle(get('/nope.js'))).status).toBe(404);
  });
});

describe('cache keys', () => {
  it('key playlists by path plus exactly _HLS_msn, _HLS_part and _HLS_skip, in a fixed order', () => {
    const path = '/cam1/360p/playlist.m3u8';
    expect(cacheKeyFor('playlist', path, {})).toBe(path);
    expect(cacheKeyFor('playlist', path, { cb: '123', token: 'x' })).toBe(path);
    expect(cacheKeyFor('playlist', path, { _HLS_part: '2', _HLS_msn: '10' })).toBe(
      `${path}?_HLS_msn=10&_HLS_part=2`,
    );
    expect(cacheKeyFor('playlist', path, { _HLS_skip: 'YES', _HLS_msn: '10', x: '1' })).toBe(
      `${path}?_HLS_msn=10&_HLS_skip=YES`,
    );
  });

  it('key media by path alone and never cache APIs', () => {
    expect(cacheKeyFor('media', '/cam1/360p/seg-1.m4s', { a: '1' })).toBe('/cam1/360p/seg-1.m4s');
    expect(cacheKeyFor('control', '/api/control/streams', {})).toBeNull();
    expect(cacheKeyFor('session', '/api/sessions', {})).toBeNull();
  });

  it('forward only the directives to the manifest app and share one entry across other query strings', async () => {
    const manifest = fakeOrigin();
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    await edge.handle(get('/cam1/360p/playlist.m3u8', { _HLS_msn: '3', cb: '1' }));
    const second = await edge.handle(get('/cam1/360p/playlist.m3u8', { cb: '2', _HLS_msn: '3' }));
    expect(second.cache).toBe('hit');
    expect(manifest.calls).toHaveLength(1);
    expect(manifest.calls[0]?.query).toEqual({ _HLS_msn: '3' });
    await edge.handle(get('/cam1/360p/playlist.m3u8', { _HLS_msn: '3', _HLS_part: '1' }));
    expect(manifest.calls).toHaveLength(2);
  });
});

describe('TTL from the origin Cache-Control', () => {
  it('reads s-maxage over max-age and stores nothing for no-store or no-cache', () => {
    const r = (cc: string, status = 200): HttpResponse => ({
      status,
      headers: { 'cache-control': cc },
      body: '',
    });
    expect(ttlMs(r('max-age=1'))).toBe(1000);
    expect(ttlMs(r('public, max-age=60, s-maxage=2'))).toBe(2000);
    expect(ttlMs(r('no-store'))).toBe(0);
    expect(ttlMs(r('no-cache'))).toBe(0);
    expect(ttlMs({ status: 200, headers: {}, body: '' })).toBe(0);
    expect(ttlMs(r('max-age=300', 404))).toBe(ERROR_TTL_MS);
  });

  it('answers from cache within max-age and asks the origin again after it', async () => {
    let now = 1_000_000;
    const manifest = fakeOrigin();
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) }, { now: () => now });
    const first = await edge.handle(get('/cam1/master.m3u8'));
    expect(first.cache).toBe('miss');
    expect(first.headers['x-cache']).toBe('Miss from mirror-edge');
    now += 900;
    const hit = await edge.handle(get('/cam1/master.m3u8'));
    expect(hit.cache).toBe('hit');
    expect(hit.headers['x-cache']).toBe('Hit from mirror-edge');
    now += 200;
    expect((await edge.handle(get('/cam1/master.m3u8'))).cache).toBe('miss');
    expect(manifest.calls).toHaveLength(2);
  });

  it('caches errors for about one second only, then retries the origin', async () => {
    let now = 5_000_000;
    let status = 404;
    const manifest = fakeOrigin(() => ({ status, headers: { 'cache-control': 'no-store' }, body: 'nope' }));
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) }, { now: () => now });
    expect((await edge.handle(get('/cam9/master.m3u8'))).status).toBe(404);
    now += ERROR_TTL_MS - 1;
    const cached = await edge.handle(get('/cam9/master.m3u8'));
    expect(cached.status).toBe(404);
    expect(cached.cache).toBe('error-hit');
    expect(manifest.calls).toHaveLength(1);
    status = 200;
    now += 2;
    expect((await edge.handle(get('/cam9/master.m3u8'))).status).toBe(200);
    expect(manifest.calls).toHaveLength(2);
  });

  it('turns a throwing origin into a 502 without crashing the edge', async () => {
    const manifest: HttpApp = {
      handle: async () => {
        throw new Error('redis down');
      },
    };
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const response = await edge.handle(get('/cam1/master.m3u8'));
    expect(response.status).toBe(502);
    expect(String(response.body)).toContain('redis down');
  });
});

describe('request collapsing', () => {
  it('sends N concurrent identical blocking requests to the origin once', async () => {
    const manifest = fakeOrigin(undefined, 150);
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const query = { _HLS_msn: '42', _HLS_part: '3' };
    const responses = await Promise.all(
      Array.from({ length: 200 }, () => edge.handle(get('/cam1/360p/playlist.m3u8', query))),
    );
    expect(manifest.calls).toHaveLength(1);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.cache === 'collapsed')).toHaveLength(199);
    expect(edge.stats.cache).toMatchObject({ misses: 1, collapsed: 199, originRequests: 1 });
    const snapshot = edge.stats;
    await edge.handle(get('/cam1/360p/playlist.m3u8', query));
    expect(snapshot.cache.hits).toBe(0);
    expect(edge.stats.cache.hits).toBe(1);
  });

  it('collapses even responses that may not be stored, but asks again afterwards', async () => {
    const manifest = fakeOrigin(
      () => ({ status: 200, headers: { 'cache-control': 'no-store' }, body: 'x' }),
      50,
    );
    const cache = new EdgeCache();
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) }, { cache });
    // The multivariant playlist: a plain media playlist's key also moves with the freshness bucket (D31).
    await Promise.all(Array.from({ length: 10 }, () => edge.handle(get('/cam1/master.m3u8'))));
    expect(manifest.calls).toHaveLength(1);
    await edge.handle(get('/cam1/master.m3u8'));
    expect(manifest.calls).toHaveLength(2);
  });

  it('keeps different directives apart', async () => {
    const manifest = fakeOrigin(undefined, 30);
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    await Promise.all([
      edge.handle(get('/cam1/360p/playlist.m3u8', { _HLS_msn: '1' })),
      edge.handle(get('/cam1/360p/playlist.m3u8', { _HLS_msn: '2' })),
      edge.handle(get('/cam2/360p/playlist.m3u8', { _HLS_msn: '1' })),
    ]);
    expect(manifest.calls).toHaveLength(3);
  });
});

describe('on real sockets', () => {
  it('speaks HTTP/2 over TLS with many concurrent streams on one connection, and HTTP/1.1 in plain', async () => {
    const manifest = fakeOrigin(
      (request) => ({
        status: 200,
        headers: { 'cache-control': 'max-age=1', 'content-type': 'application/vnd.apple.mpegurl' },
        body: `#EXTM3U\n#${request.query._HLS_msn ?? ''}\n`,
      }),
      200,
    );
    const edge = new Edge({ manifest, media: createMediaOrigin(mediaDir) });
    const server = await listenEdge(edge, {
      tls: selfSignedCertificate(join(dir, 'tls')),
      httpsPort: 0,
      httpPort: 0,
    });
    try {
      const client = connect(`https://127.0.0.1:${server.httpsPort}`, { rejectUnauthorized: false });
      const fetchH2 = (path: string) =>
        new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
          const stream = client.request({ ':path': path });
          let status = 0;
          let headers: Record<string, unknown> = {};
          let body = '';
          stream.on('response', (h) => {
            status = Number(h[':status']);
            headers = h;
          });
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => {
            body += d;
          });
          stream.on('end', () => resolve({ status, body, headers }));
          stream.on('error', reject);
        });
      // 20 distinct held requests at once: over HTTP/1.1 a browser would queue all but 6.
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetchH2(`/cam1/360p/playlist.m3u8?_HLS_msn=${i}`)),
      );
      const elapsed = Date.now() - started;
      client.close();
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(answers[7]?.body).toContain('#7');
      expect(answers[0]?.headers['access-control-allow-origin']).toBe('*');
      expect(answers[0]?.headers['x-content-type-options']).toBe('nosniff');
      expect(elapsed).toBeLessThan(1500);

      const plain = await fetch(`http://127.0.0.1:${server.httpPort}/cam1/360p/seg-5.m4s`);
      expect(plain.status).toBe(200);
      expect(new Uint8Array(await plain.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4]));
      const head = await fetch(`http://127.0.0.1:${server.httpPort}/cam1/360p/seg-5.m4s`, {
        method: 'HEAD',
      });
      expect(head.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('says which port is in use and how to fix it', async () => {
    const edge = new Edge({ manifest: fakeOrigin(), media: createMediaOrigin(mediaDir) });
    const tls = selfSignedCertificate(join(dir, 'tls'));
    const first = await listenEdge(edge, { tls, httpsPort: 0, httpPort: 0 });
    try {
      await expect(listenEdge(edge, { tls, httpsPort: 0, httpPort: first.httpPort })).rejects.toThrow(
        new RegExp(`port ${first.httpPort} is in use. Fix:`),
      );
    } finally {
      await first.close();
    }
  });
});
