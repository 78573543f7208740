import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import { RETIRE_AFTER_MS } from '../../core/sessions/playback-keys.js';
import { signPlaybackToken } from '../../core/sessions/token.js';
import { parseRunArgs } from '../../local/args.js';
import { Edge } from '../../local/edge/edge.js';
import { createMediaOrigin } from '../../local/edge/static-origin.js';
import { playbackViewerRequest } from '../../local/edge/viewer-request.js';
import type { Platform } from '../../local/platform.js';
import { launchChromium } from '../support/browser.js';
import { startTempPlatform, type TempPlatform } from '../support/platform.js';

/**
 * Playback protection at the local edge: the CloudFront Function's generated source runs before the cache,
 * with the local key ring's KeyValueStore (the keys the local session app signs with, D37). Tokens come from the real session app through the edge
 * (POST /api/sessions), over the platform's plain HTTP socket.
 */

let running: TempPlatform | undefined;
let platform: Platform;
let base: string;

beforeAll(async () => {
  // One synthetic stream (ffmpeg straight into the packager, no SRT) for the browser check.
  // Two synthetic streams (ffmpeg straight into the packager, no SRT) for the browser checks (two tabs).
  running = await startTempPlatform('protect', { streams: 2, feed: 'direct', playbackProtection: true });
  platform = running.platform;
  base = platform.urls.http;
  for (const id of ['cam-a', 'cam-b']) {
    await platform.registry.create({
      id,
      name: id,
      ladder: 'tile',
      latency: 'low',
      encrypted: true,
      keyLength: 16,
    });
    await mkdir(join(platform.mediaDir, id, '360p'), { recursive: true });
    await writeFile(join(platform.mediaDir, id, '360p', 'seg-1.m4s'), Buffer.from([1, 2, 3, 4]));
  }
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A session for `tiles` through the edge: the first tile's playback token from the body and its cookie (one cookie
 * per stream, on the stream's path, D37).
 */
async function session(tiles: string[]): Promise<{ token: string; cookie: string }> {
  const response = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ layout: '2x2', tiles }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { playbackTokens?: Record<string, string> };
  const cookies = response.headers.getSetCookie();
  expect(cookies.length).toBe(new Set(tiles).size);
  const first = cookies.find((c) => c.includes(`Path=/${tiles[0]}/;`)) ?? '';
  expect(first).toMatch(/^mirror_play=p2\./);
  const token = body.playbackTokens?.[tiles[0] as string] ?? '';
  expect(first.startsWith(`mirror_play=${token};`)).toBe(true);
  return { token, cookie: first.split(';')[0] ?? '' };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

/** A GET with the path exactly as given (no URL normalisation), answering the status. */
async function rawGet(path: string, headers: Record<string, string>): Promise<number> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const PART = '/cam-a/360p/seg-1.m4s';
const PLAYLIST = '/cam-a/360p/playlist.m3u8';

describe('npm start --playback-protection: the edge runs the CloudFront Function', () => {
  it('answers 403 to playlists and parts without a token, before any origin request', async () => {
    const before = platform.edge.stats;
    for (const path of [PART, PLAYLIST, '/cam-a/master.m3u8', '/cam-a/360p/init-1.mp4']) {
      const response = await get(path);
      expect(response.status, path).toBe(403);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-cache')).toBeNull();
    }
    const after = platform.edge.stats;
    expect(after.origin.media).toBe(before.origin.media);
    expect(after.origin.playlist).toBe(before.origin.playlist);
    expect(after.cache.misses).toBe(before.cache.misses);
    expect(after.viewerRequestAnswers - before.viewerRequestAnswers).toBe(4);
  });

  it('lets the session cookie or ?token= through, and keeps the token out of the cache key and origin', async () => {
    const { token, cookie } = await session(['cam-a']);
    const first = await get(PART, { cookie });
    expect(first.status).toBe(200);
    expect([...first.body]).toEqual([1, 2, 3, 4]);
    // Another viewer's token (query string) hits the same cache entry.
    const other = await session(['cam-a', 'cam-b']);
    expect(other.token).not.toBe(token);
    const second = await get(`${PART}?token=${other.token}`);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache')).toMatch(/^Hit/);

    const before = platform.edge.stats.origin.playlist;
    const playlist = await get(`${PLAYLIST}?token=${token}&_HLS_msn=1&_HLS_part=0`, { cookie });
    expect(playlist.status).not.toBe(403);
    expect(platform.edge.stats.origin.playlist).toBe(before + 1);
    // The web app and the APIs are not the function's business.
    expect((await get('/')).status).toBe(200);
    expect((await get('/api/sessions/streams')).status).toBe(200);
  });

  it('never serves a cached part to a request without a valid token', async () => {
    const { cookie } = await session(['cam-b']);
    const part = '/cam-b/360p/seg-1.m4s';
    expect((await get(part, { cookie })).status).toBe(200);
    expect((await get(part, { cookie })).headers.get('x-cache')).toMatch(/^Hit/);
    const hits = platform.edge.stats.cache.hits;
    expect((await get(part)).status).toBe(403);
    expect((await get(part, { cookie: 'mirror_playback=p1.9999999999.cam-b.forged' })).status).toBe(403);
    const forged = `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`;
    expect((await get(part, { cookie: forged })).status).toBe(403);
    expect(platform.edge.stats.cache.hits).toBe(hits);
  });

  it("refuses stream B's token on stream A's media and playlists", async () => {
    const { token, cookie } = await session(['cam-b']);
    expect((await get(PART, { cookie })).status).toBe(403);
    expect((await get(`${PART}?token=${token}`)).status).toBe(403);
    expect((await get(PLAYLIST, { cookie })).status).toBe(403);
    expect((await get('/cam-a/master.m3u8', { cookie })).status).toBe(403);
  });

  it('refuses //, .. and encoded separators, even with a valid token for the stream', async () => {
    const { token, cookie } = await session(['cam-a']);
    for (const path of [
      '//cam-a/360p/seg-1.m4s',
      '/cam-a//360p/seg-1.m4s',
      '/cam-a/../cam-b/360p/seg-1.m4s',
      '/cam-a/360p/..%2f360p/seg-1.m4s',
      '/cam-a%2F360p/seg-1.m4s',
      '/cam-a/360p%5cseg-1.m4s',
    ]) {
      // Raw paths over the socket (fetch() would resolve dot segments itself). Whether an edge resolves `..` first
      // (to cam-b here) or leaves it (non-canonical), the cam-a token opens nothing.
      const response = await rawGet(path, { cookie });
      expect(response, path).toBe(403);
      expect(await rawGet(`${path}?token=${token}`, {}), path).toBe(403);
    }
    expect(await rawGet(PART, { cookie })).toBe(200);
  });

  it('refuses an expired token', async () => {
    const { cookie } = await session(['cam-a']);
    expect((await get(PART, { cookie })).status).toBe(200);
    // A token lives three stable heartbeats (90 s): two minutes on, without a heartbeat, it is stale.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 120_000);
    expect((await get(PART, { cookie })).status).toBe(403);
  });
});

/** currentTime of the page's one tile (0 before it plays). */
const currentTime = (page: Page) =>
  page
    .$eval('.tile[data-stream]', (el) => Number((el as HTMLElement).dataset.currentTime ?? '0'))
    .catch(() => 0);

describe('the viewer with protection on (D37)', () => {
  it('plays two tabs with different streams at once, and keeps playing through a key rotation', async () => {
    const ids = platform.streams.map((s) => s.id);
    expect(ids).toHaveLength(2);
    const keys = platform.playbackKeys;
    if (!keys) throw new Error('protection is on: the platform has a key ring');
    const browser = await launchChromium();
    try {
      // Two tabs of one browser share its cookie jar: per-stream cookie paths keep their tokens apart.
      const pages = await Promise.all(ids.map(() => browser.context.newPage()));
      const media: { status: number; path: string }[] = [];
      const fatal: string[] = [];
      for (const page of pages) {
        page.on('response', (r) => {
          const path = new URL(r.url()).pathname;
          if (/\.(m3u8|m4s|mp4)$/.test(path)) media.push({ status: r.status(), path });
        });
        page.on('pageerror', (e) => fatal.push(String(e)));
      }
      // One after the other, each in front while it starts (a loaded 2-core machine starts two slowly at once).
      for (const [i, page] of pages.entries()) {
        await page.bringToFront();
        await page.goto(`${platform.urls.https}/?layout=1x1&streams=${ids[i]}`);
        await expect.poll(() => currentTime(page), { timeout: 60_000, interval: 250 }).toBeGreaterThan(1);
      }
      const playCookies = async () =>
        (await browser.context.cookies()).filter((c) => c.name === 'mirror_play');
      expect((await playCookies()).map((c) => c.path).sort()).toEqual(ids.map((id) => `/${id}/`).sort());
      const kidOf = (value: string) => value.split('.')[1];
      const oldKid = kidOf((await playCookies())[0]?.value ?? '');

      // The operator's rotation, through the control API as on AWS.
      const rotated = await fetch(`${platform.urls.http}/api/control/playback-keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${platform.controlToken}` },
      });
      expect(rotated.status).toBe(200);
      const { added } = (await rotated.json()) as { added: string };
      expect(keys.storedKids()).toHaveLength(2);
      // Each tab's next heartbeat renews its stream's cookie with the new kid (a stable beat is 30 s).
      await expect
        .poll(async () => (await playCookies()).map((c) => kidOf(c.value)), {
          timeout: 45_000,
          interval: 500,
        })
        .toEqual([added, added]);
      // The upkeep retires the old key once its last token has expired: moved on in time here.
      const upkeep = await keys.run('maintain', Date.now() + RETIRE_AFTER_MS + 1_000);
      expect(upkeep).toMatchObject({ retired: [oldKid] });
      expect(keys.storedKids()).toEqual([`playback-key-${added}`]);
      // Each tab in turn in front (Chromium suspends media in a background tab): its players go on loading on the
      // new key alone, and its stream's playlist answers with the cookie the browser holds now. (Whether a tile plays
      // or the session pauses it for bandwidth on this loaded machine is the allocator's business, not the edge's.)
      const seen = media.length;
      for (const [i, page] of pages.entries()) {
        await page.bringToFront();
        await page.waitForTimeout(2_000);
        const status = await page.evaluate(
          async (path) => (await fetch(path)).status,
          `/${ids[i]}/master.m3u8`,
        );
        expect(status, ids[i]).toBe(200);
        const tile = await page.$eval(
          '.tile[data-stream]',
          (el) => (el as HTMLElement).dataset.fatalErrors ?? '',
        );
        expect(tile, ids[i]).toBe('');
      }
      // Playlists and parts kept coming after the old key was gone, and none was ever refused.
      expect(media.length).toBeGreaterThan(seen + 4);
      expect(media.filter((m) => m.status === 403)).toEqual([]);
      expect(fatal).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 240_000);
});

describe('the edge with protection off, and the option', () => {
  const origin = (): HttpApp & { calls: number } => ({
    calls: 0,
    async handle(): Promise<HttpResponse> {
      this.calls++;
      return { status: 200, headers: { 'cache-control': 'max-age=1' }, body: '#EXTM3U\n' };
    },
  });
  const req = (path: string, query: Record<string, string> = {}): HttpRequest => ({
    method: 'GET',
    path,
    query,
    headers: {},
  });

  it('passes every request as before when off, and checks when on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-protect-off-'));
    try {
      await mkdir(join(dir, 'cam1', '360p'), { recursive: true });
      await writeFile(join(dir, 'cam1', '360p', 'seg-1.m4s'), Buffer.from([7]));
      const off = new Edge({ manifest: origin(), media: createMediaOrigin(dir) });
      expect((await off.handle(req('/cam1/360p/playlist.m3u8'))).status).toBe(200);
      expect((await off.handle(req('/cam1/360p/seg-1.m4s'))).status).toBe(200);
      expect(off.stats.viewerRequestAnswers).toBe(0);

      const key = { kid: 'edge0001', secret: 'edge-protection-secret-0123456789abcdefghi' };
      const manifest = origin();
      const on = new Edge(
        { manifest, media: createMediaOrigin(dir) },
        {
          viewerRequest: playbackViewerRequest((k) =>
            k === `playback-key-${key.kid}` ? key.secret : undefined,
          ),
        },
      );
      const now = Math.floor(Date.now() / 1000);
      expect((await on.handle(req('/cam1/360p/playlist.m3u8'))).status).toBe(403);
      expect(manifest.calls).toBe(0);
      const good = signPlaybackToken(key, 'AbCdEfGhIjKlMn_-', 'cam1', now + 60);
      const wrongSecret = signPlaybackToken(
        { ...key, secret: `${key.secret}x` },
        'AbCdEfGhIjKlMn_-',
        'cam1',
        now + 60,
      );
      expect((await on.handle(req('/cam1/360p/playlist.m3u8', { token: wrongSecret }))).status).toBe(403);
      expect((await on.handle(req('/cam1/360p/playlist.m3u8', { token: good }))).status).toBe(200);
      expect(manifest.calls).toBe(1);
      const head = await on.handle({ ...req('/cam1/360p/seg-1.m4s'), method: 'HEAD' });
      expect([head.status, head.body]).toEqual([403, '']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--playback-protection turns it on; off by default, as on AWS', () => {
    const byDefault = parseRunArgs([]);
    const on = parseRunArgs(['--playback-protection']);
    expect(byDefault.ok && byDefault.platform.playbackProtection).toBe(false);
    expect(on.ok && on.platform.playbackProtection).toBe(true);
  });
});
