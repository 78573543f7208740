import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamKeys, taskKeys } from '../../core/streams/keys.js';
import { bearerAuthenticator, createControlApp } from '../../functions/control/app.js';
import { createSessionApp } from '../../functions/session/app.js';
import { buildWebAppSync } from '../../web/build.js';
import { capturingLogger, TOKEN } from '../control/helpers.js';
import { launchChromium } from '../support/browser.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { startLiveHls, startTestEdge, type TestEdge } from './edge.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const STREAMS = ['north', 'south', 'east', 'west'];

describe('viewer and operator pages in headless chromium', () => {
  let server: RedisServer;
  let redis: Redis;
  let work: string;
  let edge: TestEdge;
  let browser: { context: BrowserContext; close(): Promise<void> };
  const sources: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    work = await mkdtemp(join(tmpdir(), 'mirror-web-'));
    await mkdir(ARTIFACTS, { recursive: true });
    buildWebAppSync(join(work, 'web'));
    // Two live sources shared by four streams keep ffmpeg's load small on two cores.
    sources.push(await startLiveHls(join(work, 'media-a'), 'testsrc2'));
    sources.push(await startLiveHls(join(work, 'media-b'), 'testsrc'));
    const logger = capturingLogger([]);
    const control = createControlApp({
      redis,
      logger,
      srt: { host: '127.0.0.1', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
    });
    const session = createSessionApp({ redis, logger, secret: 'browser-test-secret-0123456789abcdef' });
    edge = await startTestEdge({
      control,
      session,
      webDir: join(work, 'web'),
      mediaDir: (id) => {
        const i = STREAMS.indexOf(id);
        return i < 0 ? undefined : join(work, i % 2 === 0 ? 'media-a' : 'media-b');
      },
    });
    // Streams created through the control API, then reported live as the ingest service would.
    for (const [i, id] of STREAMS.entries()) {
      const created = await control.handle({
        method: 'POST',
        path: '/api/control/streams',
        query: {},
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ id, name: `${id[0]?.toUpperCase()}${id.slice(1)} camera`, ladder: 'full' }),
      });
      expect(created.status).toBe(201);
      await redis.set(
        streamKeys.status(id),
        JSON.stringify({
          state: 'live',
          taskId: 'task-1',
          input: { codec: 'hevc', width: 1920, height: 1080, fps: 50, bitrateKbps: 12_000 + i * 1000 },
          srt: { rttMs: 14 + i, lossPercent: 0.25 },
          renditions: ['720p', '360p'],
          latencyMs: 850,
        }),
      );
    }
    await redis.set(
      taskKeys.report('task-1'),
      JSON.stringify({ taskId: 'task-1', capacity: 15, streams: 4, gpu: false, cpuPercent: 37 }),
    );
    await redis.zadd(taskKeys.index, Date.now() + 3_600_000, 'task-1');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    for (const s of sources) await s.stop();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const tileData = (page: Page) =>
    page.$$eval('.tile', (els) =>
      els.map((el) => ({
        stream: (el as HTMLElement).dataset.stream ?? '',
        state: (el as HTMLElement).dataset.state ?? '',
        time: Number((el as HTMLElement).dataset.currentTime ?? 0),
        rendition: (el as HTMLElement).dataset.rendition ?? '',
        playing: (el as HTMLElement).dataset.playing ?? '',
        latencyMs: Number((el as HTMLElement).dataset.latencyMs ?? Number.NaN),
      })),
    );

  it('plays a 2x2 wall of live streams; focusing a tile switches its rendition', async () => {
    const page = await browser.context.newPage();
    // Device pixel ratio 2: a quarter of the wall is about 1340x900 device pixels, room for the 720p rung.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: 1600,
      height: 1000,
      deviceScaleFactor: 2,
      mobile: false,
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${edge.url}/?layout=2x2&streams=${STREAMS.join(',')}`);

    await expect
      .poll(async () => (await tileData(page)).filter((t) => t.time > 0.5).length, { timeout: 30_000 })
      .toBe(4);
    // Every tile keeps advancing (polled: two cores shared with ffmpeg can stall a tile for a moment).
    const before = await tileData(page);
    await expect
      .poll(async () => (await tileData(page)).every((t, i) => t.time > (before[i]?.time ?? 0) + 1), {
        timeout: 15_000,
      })
      .toBe(true);
    const after = await tileData(page);
    expect(after.map((t) => t.stream)).toEqual(STREAMS);
    expect(after.map((t) => t.state)).toEqual(['live', 'live', 'live', 'live']);
    // Unfocused tiles play the tile rung.
    expect(after.map((t) => t.playing)).toEqual(['360p', '360p', '360p', '360p']);
    // Latency measured from PROGRAM-DATE-TIME: ffmpeg's -re output, a few seconds behind.
    for (const t of after) expect(t.latencyMs).toBeGreaterThan(0);

    await page.click('.tile[data-index="1"]');
    await expect
      .poll(async () => (await tileData(page)).map((t) => t.playing), { timeout: 20_000 })
      .toEqual(['360p', '720p', '360p', '360p']);
    const focused = await page.$eval('.tile[data-index="1"]', (el) => ({
      focused: el.classList.contains('focused'),
      muted: (el.querySelector('video') as HTMLVideoElement).muted,
    }));
    expect(focused).toEqual({ focused: true, muted: false });
    const othersMuted = await page.$$eval('.tile:not([data-index="1"]) video', (els) =>
      els.every((v) => (v as HTMLVideoElement).muted),
    );
    expect(othersMuted).toBe(true);
    // The session counts viewers: the control API sees them.
    const viewers = Number(await redis.zcard('mirror:viewers:north'));
    expect(viewers).toBe(1);

    await page.waitForTimeout(1000); // let the focused tile show its new rendition
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-2x2.png') });

    // The layout picker: 3x3 keeps the streams in the first tiles and adds empty ones.
    await page.selectOption('#layout', '3x3');
    await expect.poll(async () => (await tileData(page)).length, { timeout: 10_000 }).toBe(9);
    const grid = await tileData(page);
    expect(grid.map((t) => t.stream)).toEqual([...STREAMS, '', '', '', '', '']);
    expect(grid.slice(4).every((t) => t.state === 'empty')).toBe(true);
    // A stream picked from the list goes to the focused tile.
    await page.click('.tile[data-index="6"]'); // empty: focus stays
    await page.click('#streams li[data-stream="west"]');
    await expect.poll(async () => (await tileData(page))[1]?.stream, { timeout: 10_000 }).toBe('west');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps heartbeating through network errors and a 503, backing off between tries', async () => {
    const page = await browser.context.newPage();
    const tries: { atMs: number; outcome: string }[] = [];
    // Two network errors and a 503, then the API is back.
    const failures = ['abort', 'abort', '503'];
    await page.route('**/api/sessions/*/heartbeat', async (route) => {
      const outcome = failures.shift() ?? 'pass';
      tries.push({ atMs: Date.now(), outcome });
      if (outcome === 'abort') await route.abort('failed');
      else if (outcome === '503') await route.fulfill({ status: 503, body: '{"error":"unavailable"}' });
      else await route.continue();
    });
    await page.goto(`${edge.url}/?layout=1x1&streams=north`);
    await expect.poll(() => tries.filter((t) => t.outcome === 'pass').length, { timeout: 20_000 }).toBe(1);
    const gaps = tries.slice(1).map((t, i) => t.atMs - (tries[i] as { atMs: number }).atMs);
    // Backoff: 0.5-1 s, 1-2 s, 2-4 s (equal jitter over a doubling ceiling), never a tight loop.
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(450);
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    expect(gaps[2]).toBeGreaterThanOrEqual(1950);
    await page.close();
  });

  it('operator page lists live streams with their figures and creates a stream', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1500, height: 900 });
    await page.goto(`${edge.url}/operator/`);
    await page.fill('#token', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('tr[data-stream="west"]');
    const rows = await page.$$eval('#stream-rows tr', (trs) =>
      trs.map((tr) => ({
        id: (tr as HTMLElement).dataset.stream,
        state: (tr as HTMLElement).dataset.state,
        bitrate: tr.querySelector('.bitrate')?.textContent,
        srt: tr.querySelector('.srt')?.textContent,
        latency: tr.querySelector('.latency')?.textContent,
      })),
    );
    expect(rows).toEqual([
      { id: 'north', state: 'live', bitrate: '12.0 Mbps', srt: '14 ms / 0.25 %', latency: '850 ms' },
      { id: 'south', state: 'live', bitrate: '13.0 Mbps', srt: '15 ms / 0.25 %', latency: '850 ms' },
      { id: 'east', state: 'live', bitrate: '14.0 Mbps', srt: '16 ms / 0.25 %', latency: '850 ms' },
      { id: 'west', state: 'live', bitrate: '15.0 Mbps', srt: '17 ms / 0.25 %', latency: '850 ms' },
    ]);
    expect(await page.textContent('#ingest')).toContain('4 / 15');

    await page.fill('input[name="name"]', 'Press box');
    await page.click('#create button[type="submit"]');
    const srtUrl = await page.textContent('dialog[open] .srt-url', { timeout: 10_000 });
    expect(srtUrl).toMatch(/^srt:\/\/127\.0\.0\.1:9000\?streamid=#!::r=press-box-[0-9a-f]+,m=publish,s=/);
    await page.screenshot({ path: join(ARTIFACTS, 'operator-created.png') });
    await page.click('dialog[open] button');
    await page.waitForSelector('tr[data-stream^="press-box-"]');

    // Rotate shows new credentials once.
    await page.click('tr[data-stream="north"] button:text("Rotate")');
    const rotated = await page.textContent('dialog[open] .srt-url', { timeout: 10_000 });
    expect(rotated).toContain('streamid=#!::r=north,m=publish,s=');
    await page.click('dialog[open] button');
    await page.screenshot({ path: join(ARTIFACTS, 'operator.png') });
    await page.close();
  });
});
