import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import type { HttpApp } from '../../core/http.js';
import { streamKeys } from '../../core/streams/keys.js';
import { bearerAuthenticator, createControlApp } from '../../functions/control/app.js';
import { createSessionApp } from '../../functions/session/app.js';
import { stageEntitlementVerifier } from '../../functions/session/entitlements.js';
import { buildWebAppSync } from '../../web/build.js';
import { call, capturingLogger, request, TOKEN } from '../control/helpers.js';
import { launchChromium } from '../support/browser.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { startLiveHls, startTestEdge, type TestEdge } from './edge.js';

// Decision D36 in a real browser: the viewer page passes the entitlement in its URL fragment to the stream list and
// to session creation; the operator page shows and flips a stream's visibility.

const SECRET = 'browser-viewer-token-secret-0123456789abcdef';

describe('a private stream in the viewer and operator pages (chromium)', () => {
  let server: RedisServer;
  let work: string;
  let edge: TestEdge;
  let control: HttpApp;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let source: { stop(): Promise<void> };

  beforeAll(async () => {
    server = await startRedis();
    const redis = server.client();
    work = await mkdtemp(join(tmpdir(), 'mirror-private-'));
    buildWebAppSync(join(work, 'web'));
    source = await startLiveHls(join(work, 'media'), 'testsrc2');
    const logger = capturingLogger([]);
    control = createControlApp({
      redis,
      logger,
      srt: { host: '127.0.0.1', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
      viewerTokenKey: mirrorSigningKey(SECRET),
    });
    const session = createSessionApp({
      redis,
      logger,
      secret: 'browser-test-secret-0123456789abcdef',
      verifyEntitlement: stageEntitlementVerifier(undefined, SECRET, Date.now),
    });
    edge = await startTestEdge({
      control,
      session,
      webDir: join(work, 'web'),
      mediaDir: () => join(work, 'media'),
    });
    for (const [id, visibility] of [
      ['lobby', 'public'],
      ['vault', 'private'],
    ]) {
      const body = { id, name: id, encrypted: false, visibility };
      expect((await call(control, request('POST', '/api/control/streams', body))).status).toBe(201);
      const status = { state: 'live', taskId: 't', renditions: ['720p', '360p'] };
      await redis.set(streamKeys.status(id as string), JSON.stringify(status));
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    await source?.stop();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const listed = (page: Page) =>
    page.$$eval('#streams li', (els) => els.map((el) => (el as HTMLElement).dataset.stream));
  const tile = (page: Page) =>
    page.$eval('.tile[data-index="0"]', (el) => ({
      stream: (el as HTMLElement).dataset.stream ?? '',
      time: Number((el as HTMLElement).dataset.currentTime ?? 0),
    }));

  it('lists and plays the private stream only with an entitlement in the fragment', async () => {
    const anonymous = await browser.context.newPage();
    await anonymous.goto(`${edge.url}/?layout=2x2&streams=vault,lobby`);
    await expect.poll(() => listed(anonymous), { timeout: 10_000 }).toEqual(['lobby']);
    // The private stream is refused (403), so the wall opens with the streams the list offers.
    await expect.poll(async () => (await tile(anonymous)).stream, { timeout: 10_000 }).toBe('lobby');
    await anonymous.close();

    const minted = await call(
      control,
      request('POST', '/api/control/viewer-tokens', { streams: ['vault'], ttlSeconds: 600 }),
    );
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${edge.url}/?layout=1x1&streams=vault#entitlement=${minted.json.token}`);
    await expect
      .poll(async () => (await listed(page))?.sort(), { timeout: 10_000 })
      .toEqual(['lobby', 'vault']);
    await expect.poll(() => tile(page), { timeout: 30_000 }).toMatchObject({ stream: 'vault' });
    await expect.poll(async () => (await tile(page)).time, { timeout: 30_000 }).toBeGreaterThan(0.5);
    // Read once, then out of the address bar: a shared URL does not carry it.
    expect(new URL(page.url()).hash).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to the public streams when the entitlement is refused (expired or forged)', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${edge.url}/?layout=2x2&streams=vault,lobby#entitlement=eyJhbGciOiJFZERTQSJ9.e30.AAAA`);
    await expect.poll(() => listed(page), { timeout: 10_000 }).toEqual(['lobby']);
    await expect.poll(async () => (await tile(page)).stream, { timeout: 10_000 }).toBe('lobby');
    await page.close();
  });

  it('shows each stream’s visibility on the operator page and flips it', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${edge.url}/operator/`);
    await page.fill('#token', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('tr[data-stream="vault"] td.visibility[data-visibility="private"]');
    expect(await page.getAttribute('tr[data-stream="lobby"] td.visibility', 'data-visibility')).toBe(
      'public',
    );
    await page.click('tr[data-stream="vault"] td.visibility button');
    await page.waitForSelector('tr[data-stream="vault"] td.visibility[data-visibility="public"]', {
      timeout: 10_000,
    });
    await page.close();
  });
});
