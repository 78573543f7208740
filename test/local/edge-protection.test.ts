import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
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
 * with the secret the local session app signs with. Tokens come from the real session app through the edge
 * (POST /api/sessions), over the platform's plain HTTP socket.
 */

let running: TempPlatform | undefined;
let platform: Platform;
let base: string;

beforeAll(async () => {
  // One synthetic stream (ffmpeg straight into the packager, no SRT) for the browser check.
  running = await startTempPlatform('protect', { streams: 1, feed: 'direct', playbackProtection: true });
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
    await writeFile(join(platform.mediaDir, id, '360p', 'part-1-0.m4s'), Buffer.from([1, 2, 3, 4]));
  }
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

afterEach(() => {
  vi.useRealTimers();
});

/** A session for `tiles` through the edge: the playback token from the body and the cookie. */
async function session(tiles: string[]): Promise<{ token: string; cookie: string }> {
  const response = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ layout: '2x2', tiles }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { playbackToken?: string };
  const setCookie = response.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/^mirror_playback=p1\./);
  expect(body.playbackToken).toMatch(/^p1\./);
  return { token: body.playbackToken ?? '', cookie: setCookie.split(';')[0] ?? '' };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

const PART = '/cam-a/360p/part-1-0.m4s';
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
    const part = '/cam-b/360p/part-1-0.m4s';
    expect((await get(part, { cookie })).status).toBe(200);
    expect((await get(part, { cookie })).headers.get('x-cache')).toMatch(/^Hit/);
    const hits = platform.edge.stats.cache.hits;
    expect((await get(part)).status).toBe(403);
    expect((await get(part, { cookie: 'mirror_playback=p1.9999999999.cam-b.forged' })).status).toBe(403);
    expect(platform.edge.stats.cache.hits).toBe(hits);
  });

  it('refuses a token for another stream', async () => {
    const { token, cookie } = await session(['cam-b']);
    expect((await get(PART, { cookie })).status).toBe(403);
    expect((await get(`${PART}?token=${token}`)).status).toBe(403);
    expect((await get(PLAYLIST, { cookie })).status).toBe(403);
  });

  it('refuses an expired token', async () => {
    const { cookie } = await session(['cam-a']);
    expect((await get(PART, { cookie })).status).toBe(200);
    // The session's token lives for the session (60 s) plus a grace: two hours on, it is stale.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    expect((await get(PART, { cookie })).status).toBe(403);
  });
});

describe('the viewer with protection on', () => {
  it('plays in Chromium with the cookie the session app sets, no playlist or part refused', async () => {
    const id = platform.streams[0]?.id ?? '';
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const media: number[] = [];
      page.on('response', (r) => {
        if (/\.(m3u8|m4s|mp4)$/.test(new URL(r.url()).pathname)) media.push(r.status());
      });
      await page.goto(`${platform.urls.https}/?layout=1x1&streams=${id}`);
      await expect
        .poll(
          async () =>
            Number(
              await page
                .$eval('.tile[data-stream]', (el) => (el as HTMLElement).dataset.currentTime ?? '0')
                .catch(() => '0'),
            ),
          { timeout: 40_000, interval: 250 },
        )
        .toBeGreaterThan(1);
      // Before the stream is live a playlist may answer 404/503; never 403. Responses reach the test
      // asynchronously, so wait for them rather than count at once.
      await expect
        .poll(() => media.filter((status) => status === 200).length, { timeout: 10_000 })
        .toBeGreaterThan(3);
      expect(media.filter((status) => status === 403)).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
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
      await writeFile(join(dir, 'cam1', '360p', 'part-1-0.m4s'), Buffer.from([7]));
      const off = new Edge({ manifest: origin(), media: createMediaOrigin(dir) });
      expect((await off.handle(req('/cam1/360p/playlist.m3u8'))).status).toBe(200);
      expect((await off.handle(req('/cam1/360p/part-1-0.m4s'))).status).toBe(200);
      expect(off.stats.viewerRequestAnswers).toBe(0);

      const secret = 'edge-protection-secret-0123456789';
      const manifest = origin();
      const on = new Edge(
        { manifest, media: createMediaOrigin(dir) },
        { viewerRequest: playbackViewerRequest(secret) },
      );
      const now = Math.floor(Date.now() / 1000);
      expect((await on.handle(req('/cam1/360p/playlist.m3u8'))).status).toBe(403);
      expect(manifest.calls).toBe(0);
      const good = signPlaybackToken(secret, ['cam1'], now + 60);
      const wrongSecret = signPlaybackToken(`${secret}x`, ['cam1'], now + 60);
      expect((await on.handle(req('/cam1/360p/playlist.m3u8', { token: wrongSecret }))).status).toBe(403);
      expect((await on.handle(req('/cam1/360p/playlist.m3u8', { token: good }))).status).toBe(200);
      expect(manifest.calls).toBe(1);
      const head = await on.handle({ ...req('/cam1/360p/part-1-0.m4s'), method: 'HEAD' });
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
