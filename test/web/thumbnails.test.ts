import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbnailKey, thumbnailPath } from '../../core/contracts/names.js';
import { streamKeys } from '../../core/streams/keys.js';
import { bearerAuthenticator, createControlApp } from '../../functions/control/app.js';
import { createSessionApp } from '../../functions/session/app.js';
import { selfSignedCertificate } from '../../local/edge/cert.js';
import { Edge } from '../../local/edge/edge.js';
import { type EdgeServer, listenEdge } from '../../local/edge/server.js';
import { createMediaOrigin, createWebOrigin } from '../../local/edge/static-origin.js';
import { buildWebAppSync } from '../../web/build.js';
import { capturingLogger, TOKEN } from '../control/helpers.js';
import { launchChromium } from '../support/browser.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** The operator table and the viewer's stream picker show a live stream's thumbnail (D41), through the local edge. */
describe('thumbnails in the pages, in headless chromium', () => {
  let server: RedisServer;
  let redis: Redis;
  let work: string;
  let edge: EdgeServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    work = await mkdtemp(join(tmpdir(), 'mirror-thumbs-web-'));
    buildWebAppSync(join(work, 'web'));
    const media = join(work, 'media');
    await mkdir(join(media, 'cam'), { recursive: true });
    const made = spawnSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180'],
      ...['-frames:v', '1', '-c:v', 'mjpeg', '-y', join(media, thumbnailKey('cam', 320))],
    ]);
    expect(made.status).toBe(0);
    const logger = capturingLogger([]);
    const control = createControlApp({
      redis,
      logger,
      srt: { host: '127.0.0.1', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
    });
    const session = createSessionApp({ redis, logger, secret: 'thumbnail-test-secret-0123456789abcdef' });
    const origin = createMediaOrigin(media);
    edge = await listenEdge(
      new Edge({
        manifest: origin,
        media: origin,
        control,
        session,
        web: createWebOrigin(join(work, 'web')),
      }),
      { tls: selfSignedCertificate(join(work, 'tls')), httpsPort: 0, httpPort: 0 },
    );
    const created = await control.handle({
      method: 'POST',
      path: '/api/control/streams',
      query: {},
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ id: 'cam', name: 'Cam' }),
    });
    expect(created.status).toBe(201);
    await redis.set(
      streamKeys.status('cam'),
      JSON.stringify({ state: 'live', renditions: ['360p'], thumbnailUrl: thumbnailPath('cam') }),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await edge?.close();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const loadedWidth = (selector: string) => (page: import('playwright-core').Page) =>
    page.waitForFunction(
      (s) => (document.querySelector(s) as HTMLImageElement | null)?.naturalWidth ?? 0,
      selector,
      { timeout: 10_000 },
    );

  it('the viewer stream picker and the operator table show the picture, served with max-age=1', async () => {
    const page = await browser.context.newPage();
    const jpegs: string[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('.jpg')) jpegs.push(`${r.status()} ${r.headers()['cache-control']}`);
    });
    const base = `http://127.0.0.1:${edge.httpPort}`;
    await page.goto(`${base}/?layout=1x1`);
    const picker = await loadedWidth('#streams li[data-stream="cam"] img.thumb')(page);
    expect(await picker.jsonValue()).toBe(320);

    await page.goto(`${base}/operator/`);
    await page.fill('#token', TOKEN);
    await page.click('button[type="submit"]');
    const table = await loadedWidth('tr[data-stream="cam"] img.thumb')(page);
    expect(await table.jsonValue()).toBe(320);
    expect(jpegs[0]).toBe('200 public, max-age=1');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'operator-thumbnails.png') });
    await page.close();
  });
});
