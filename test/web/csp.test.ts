import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageContentSecurityPolicy } from '../../core/contracts/security-headers.js';
import type { HttpApp } from '../../core/http.js';
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
import { startLiveHls } from './edge.js';

// The viewer and operator pages under the Content-Security-Policy the local edge sends from the same table as
// CloudFront's response headers policy (core/contracts/security-headers.ts, D39): any violation fails the test.

interface Violation {
  readonly directive: string;
  readonly blocked: string;
}

/** Records every CSP violation the page reports, from its first script on. */
async function watchViolations(page: Page): Promise<() => Promise<Violation[]>> {
  await page.addInitScript(() => {
    const seen: { directive: string; blocked: string }[] = [];
    (window as unknown as { __csp: typeof seen }).__csp = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push({ directive: e.effectiveDirective, blocked: e.blockedURI }),
    );
  });
  const console: Violation[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text()))
      console.push({ directive: 'console', blocked: message.text() });
  });
  return async () => [
    ...(await page.evaluate(() => (window as unknown as { __csp: Violation[] }).__csp)),
    ...console,
  ];
}

describe('the pages under their Content-Security-Policy, in headless chromium', () => {
  let server: RedisServer;
  let redis: Redis;
  let work: string;
  let listening: EdgeServer;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const sources: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    work = await mkdtemp(join(tmpdir(), 'mirror-csp-'));
    buildWebAppSync(join(work, 'web'));
    sources.push(await startLiveHls(join(work, 'media', 'north'), 'testsrc2'));
    const logs: string[] = [];
    const logger = capturingLogger(logs);
    const control = createControlApp({
      redis,
      logger,
      srt: { host: '127.0.0.1', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
    });
    const session = createSessionApp({ redis, logger, secret: 'csp-test-secret-0123456789abcdef0123' });
    const media = createMediaOrigin(join(work, 'media'));
    // ffmpeg's playlists change in place: served uncached, as the manifest function's live playlists are short-lived.
    const playlists: HttpApp = {
      async handle(request) {
        const answer = await media.handle(request);
        return { ...answer, headers: { ...answer.headers, 'cache-control': 'no-cache' } };
      },
    };
    const edge = new Edge({
      manifest: playlists,
      media,
      control,
      session,
      web: createWebOrigin(join(work, 'web')),
    });
    listening = await listenEdge(edge, {
      tls: selfSignedCertificate(join(work, 'tls')),
      httpsPort: 0,
      httpPort: 0,
    });
    base = `https://127.0.0.1:${listening.httpsPort}`;
    const created = await control.handle({
      method: 'POST',
      path: '/api/control/streams',
      query: {},
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ id: 'north', name: 'North camera', ladder: 'full' }),
    });
    expect(created.status, logs.join('\n')).toBe(201);
    await redis.set(
      streamKeys.status('north'),
      JSON.stringify({ state: 'live', taskId: 'task-1', renditions: ['720p', '360p'], latencyMs: 850 }),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await listening?.close();
    for (const s of sources) await s.stop();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('plays a live stream on the viewer page (MSE, hls.js worker, session API) without a violation', async () => {
    const page = await browser.context.newPage();
    const violations = await watchViolations(page);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const response = await page.goto(`${base}/?layout=1x1&streams=north`);
    expect(response?.headers()['content-security-policy']).toBe(pageContentSecurityPolicy());
    const time = () =>
      page.$eval('.tile[data-stream="north"]', (el) => Number((el as HTMLElement).dataset.currentTime ?? 0));
    await expect.poll(time, { timeout: 30_000 }).toBeGreaterThan(1);
    // The stream list came from the session API under connect-src 'self'.
    await page.waitForSelector('#streams li[data-stream="north"]');
    expect(await violations()).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('signs in and lists streams on the operator page without a violation', async () => {
    const page = await browser.context.newPage();
    const violations = await watchViolations(page);
    const response = await page.goto(`${base}/operator/`);
    expect(response?.headers()['content-security-policy']).toBe(pageContentSecurityPolicy());
    await page.fill('#token', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('tr[data-stream="north"]');
    expect(await violations()).toEqual([]);
    await page.close();
  }, 30_000);

  it('reports what the policy refuses (the watch itself works): inline script and a foreign image', async () => {
    const page = await browser.context.newPage();
    const violations = await watchViolations(page);
    await page.goto(`${base}/operator/`);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = true';
      document.body.append(script);
      const img = document.createElement('img');
      img.src = 'https://elsewhere.invalid/pixel.png';
      document.body.append(img);
    });
    await expect
      .poll(
        async () =>
          (await violations())
            .map((v) => v.directive)
            .filter((d) => d !== 'console')
            .sort(),
        {
          timeout: 5_000,
        },
      )
      .toEqual(['img-src', 'script-src-elem']);
    expect(await page.evaluate(() => (window as unknown as { __inline?: boolean }).__inline)).toBeUndefined();
    await page.close();
  }, 30_000);

  it('keeps the player script loadable by an integrator page on another origin', async () => {
    // The integrator's page: its own origin, its own (absent) policy, the player script from the edge.
    const integrator = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><script type="module" src="${base}/mirror-player.js"></script>`);
    });
    await new Promise<void>((resolve) => integrator.listen(0, '127.0.0.1', resolve));
    const page = await browser.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(integrator.address() as AddressInfo).port}/`);
      // Module scripts run before the load event. A string: the runner's transform would rewrite a function body.
      await page.waitForLoadState('load');
      expect(await page.evaluate("customElements.get('mirror-player') !== undefined")).toBe(true);
    } finally {
      await page.close();
      integrator.closeAllConnections();
      await new Promise((resolve) => integrator.close(resolve));
    }
  }, 30_000);
});
