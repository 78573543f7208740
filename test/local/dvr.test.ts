import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStockPlayers, openStockHost, readStockReports } from '../../bench/stock-players.js';
import { parseDvrPlaylist } from '../../core/dvr/window.js';
import type { Platform } from '../../local/platform.js';
import { launchChromium } from '../support/browser.js';
import { startTempPlatform, type TempPlatform } from '../support/platform.js';

/**
 * The DVR window, scaled down in time (decision D43): 16 s instead of 4 h, so DVR segments of about 1.6 s (at least
 * 10 per window) and a window that has slid within the test.
 */
const WINDOW_S = 16;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

let running: TempPlatform | undefined;
let platform: Platform;
const previousWindow = process.env.MIRROR_DVR_WINDOW_S;

beforeAll(async () => {
  // The ingest child inherits this process's environment (local/ingest-child.ts): the stage's media.dvrWindowS.
  process.env.MIRROR_DVR_WINDOW_S = String(WINDOW_S);
  running = await startTempPlatform('dvr', { streams: 1, ladder: 'tile', gpu: 'off' });
  platform = running.platform;
}, 90_000);

afterAll(async () => {
  await running?.stop();
  if (previousWindow === undefined) delete process.env.MIRROR_DVR_WINDOW_S;
  else process.env.MIRROR_DVR_WINDOW_S = previousWindow;
});

interface TileDvr {
  mode: string;
  dvrStart: number | null;
  dvrEnd: number | null;
  currentTime: number;
  pdtLatencyMs: number | null;
  fatalErrors: string;
}

const readTile = (page: Page): Promise<TileDvr> =>
  page.$eval('.tile[data-stream]:not([data-stream=""])', (el) => {
    const d = (el as HTMLElement).dataset;
    const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
    return {
      mode: d.mode ?? '',
      dvrStart: num(d.dvrStart),
      dvrEnd: num(d.dvrEnd),
      currentTime: Number(d.currentTime ?? 0),
      pdtLatencyMs: num(d.pdtLatencyMs),
      fatalErrors: d.fatalErrors ?? '',
    };
  });

describe('DVR time-shift on the embedded platform (D43)', () => {
  it('the status names dvrUrl; the edge serves a sliding DVR playlist with a short cache lifetime', async () => {
    const id = platform.streams[0]!.id;
    const deadline = Date.now() + 60_000;
    let dvrUrl: string | undefined;
    while (dvrUrl === undefined) {
      const r = await fetch(`${platform.urls.http}/api/control/streams/${id}`, {
        headers: { authorization: `Bearer ${platform.controlToken}` },
      });
      if (r.ok)
        dvrUrl = ((await r.json()) as { stream: { status: { dvrUrl?: string } } }).stream.status.dvrUrl;
      expect(Date.now(), 'no dvrUrl in the status').toBeLessThan(deadline);
      if (dvrUrl === undefined) await new Promise((res) => setTimeout(res, 500));
    }
    expect(dvrUrl).toBe(`/${id}/dvr.m3u8`);
    // Wait until the window has slid: its oldest entries dropped off and the media sequence moved on.
    let media: { text: string; cacheControl: string | null; type: string | null } | undefined;
    for (;;) {
      const master = await fetch(`${platform.urls.http}${dvrUrl}`);
      if (master.ok) {
        const variant = (await master.text()).split('\n').find((l) => l.endsWith('/dvr.m3u8'))!;
        const r = await fetch(`${platform.urls.http}/${id}/${variant}`);
        media = {
          text: await r.text(),
          cacheControl: r.headers.get('cache-control'),
          type: r.headers.get('content-type'),
        };
        if ((parseDvrPlaylist(media.text)?.mediaSequence ?? 0) > 0) break;
      }
      expect(Date.now(), 'the DVR window never slid').toBeLessThan(deadline);
      await new Promise((res) => setTimeout(res, 1000));
    }
    expect(media.cacheControl).toBe('public, max-age=2');
    expect(media.type).toBe('application/vnd.apple.mpegurl');
    expect(media.text).not.toMatch(/PLAYLIST-TYPE|ENDLIST/);
    const state = parseDvrPlaylist(media.text)!;
    const spanS = state.entries.reduce((sum, e) => sum + e.durationS, 0);
    // The window plus at most the one segment straddling its start.
    expect(spanS).toBeGreaterThanOrEqual(WINDOW_S - 0.1);
    expect(spanS).toBeLessThan(WINDOW_S + 3);
    // Every listed DVR segment is served (immutable, from storage).
    const last = state.entries.at(-1)!;
    const seg = await fetch(`${platform.urls.http}/${id}/360p/${last.uri}`);
    expect(seg.status).toBe(200);
  }, 60_000);

  it('the viewer seeks back to the window start and plays, then "Go live" returns under 2 s of latency', async () => {
    const id = platform.streams[0]!.id;
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${platform.urls.https}/?layout=1x1&streams=${id}`);
      await expect
        .poll(async () => (await readTile(page)).currentTime, { timeout: 20_000 })
        .toBeGreaterThan(0.5);
      await page.click('.tile .dvr-toggle');
      // The DVR playlist loads and its window is the configured one.
      await expect
        .poll(
          async () => {
            const t = await readTile(page);
            return t.mode === 'dvr' && t.dvrEnd !== null && t.dvrStart !== null ? t.dvrEnd - t.dvrStart : 0;
          },
          { timeout: 15_000 },
        )
        .toBeGreaterThan(WINDOW_S - 4);
      await page.$eval('.tile .scrubber', (el) => {
        (el as HTMLInputElement).value = '0';
        el.dispatchEvent(new Event('input'));
      });
      await page.waitForTimeout(500);
      const seeked = await readTile(page);
      expect(seeked.currentTime - seeked.dvrStart!).toBeLessThan(2);
      // It plays on from there, a whole window behind live.
      await page.waitForTimeout(3000);
      const playing = await readTile(page);
      expect(playing.currentTime - seeked.currentTime).toBeGreaterThan(2);
      expect(playing.pdtLatencyMs).toBeGreaterThan((WINDOW_S - 4) * 1000);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dvr-viewer-time-shifted.png') });
      // One action back to live: LL-HLS again, within 2 s of the ingest clock.
      await page.click('.tile .go-live');
      await expect
        .poll(
          async () => {
            const t = await readTile(page);
            return t.mode === 'live' && t.pdtLatencyMs !== null ? t.pdtLatencyMs : Number.POSITIVE_INFINITY;
          },
          { timeout: 15_000, interval: 250 },
        )
        .toBeLessThan(2000);
      expect((await readTile(page)).fatalErrors).toBe('');
      await page.screenshot({ path: join(ARTIFACTS, 'dvr-viewer-live-again.png') });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('stock hls.js and Shaka load dvrUrl directly and play behind live', async () => {
    const id = platform.streams[0]!.id;
    const browser = await launchChromium();
    try {
      const page = await openStockHost(browser.context, platform.urls.https);
      await addStockPlayers(page, platform.urls.https, `/${id}/dvr.m3u8`, ['hlsjs', 'shaka']);
      await page.waitForTimeout(8000);
      for (const report of await readStockReports(page, ['hlsjs', 'shaka'])) {
        expect(report.errors, report.player).toEqual([]);
        expect(report.currentTimeEnd - report.currentTimeStart, report.player).toBeGreaterThan(2);
        // Three DVR segments behind the window's newest (HOLD-BACK), not a live-edge latency.
        expect(Math.min(...report.latenciesMs), report.player).toBeGreaterThan(2000);
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
