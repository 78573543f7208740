import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../local/platform.js';
import { launchChromium } from '../support/browser.js';
import { startTempPlatform, type TempPlatform } from '../support/platform.js';

// Decision D44, issue 14's proof: the operator page shows a state change within 1 s of it happening, by push. The
// whole embedded platform (ingest child, synthetic SRT encoder, ffmpeg, redis-server, local edge) and Chromium; the
// stream is paused and resumed through the control API while the page may not read that API at all, so what it
// shows can only have come through the events stream.

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
let running: TempPlatform | undefined;
let platform: Platform;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

beforeAll(async () => {
  running = await startTempPlatform('live-updates', { streams: 1, ladder: 'tile', gpu: 'off' });
  platform = running.platform;
  browser = await launchChromium();
  await mkdir(ARTIFACTS, { recursive: true });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

// The goal is 1 s (1.5 s for a sampled viewer count): `npm run bench:operator-push` holds the page to it on a
// quiet machine. Under the whole suite on 2 loaded cores the bound is looser; the push itself is proven either way,
// since the page cannot read the API.
const BOUND_MS = Number(process.env.MIRROR_PUSH_BOUND_MS ?? 3000);

const control = (method: string, path: string) =>
  fetch(`${platform.urls.http}/api/control${path}`, {
    method,
    headers: { authorization: `Bearer ${platform.controlToken}` },
  });

describe('operator page live updates (D44)', () => {
  it('shows pause and resume within 1 s, a new viewer within 1.5 s, while its control API reads are blocked', async () => {
    const id = platform.streams[0]!.id;
    const state = async () => {
      const body = (await (await control('GET', `/streams/${id}`)).json()) as {
        stream?: { status?: { state?: string } };
      };
      return body.stream?.status?.state;
    };
    await expect.poll(state, { timeout: 60_000, interval: 500 }).toBe('live');
    const page = await browser!.context.newPage();
    await page.goto(platform.urls.operator);
    await page.fill('#token', platform.controlToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector(`tr[data-stream="${id}"][data-state="live"]`);
    await page.waitForSelector('body[data-updates="push"]');

    // From here the page cannot poll: every control API read fails. Only the events stream can move the table.
    let blocked = 0;
    await page.route('**/api/control/**', (route) => {
      blocked++;
      return route.abort();
    });
    const shows = async (method: 'pause' | 'resume', state: string) => {
      const t0 = performance.now();
      const answer = await control('POST', `/streams/${id}/${method}`);
      expect(answer.status).toBeLessThan(300);
      await page.waitForSelector(`tr[data-stream="${id}"][data-state="${state}"]`, { timeout: 5000 });
      return performance.now() - t0;
    };
    const pausedMs = await shows('pause', 'paused');
    await page.screenshot({ path: join(ARTIFACTS, 'operator-live-paused.png') });
    const resumedMs = await shows('resume', 'live');
    console.log(
      `operator page: paused shown ${pausedMs.toFixed(0)} ms, live again ${resumedMs.toFixed(0)} ms after the API call`,
    );
    expect(pausedMs).toBeLessThan(BOUND_MS);
    expect(resumedMs).toBeLessThan(BOUND_MS);
    // A viewer opens a session through the public session API: the count moves by push too (sampled, D44).
    const viewersCell = `tr[data-stream="${id}"] td.viewers`;
    const shown = Number(await page.textContent(viewersCell));
    const t0 = performance.now();
    const session = await fetch(`${platform.urls.http}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ layout: '1x1', tiles: [id] }),
    });
    expect(session.status).toBe(201);
    await page.waitForFunction(
      ([cell, n]) => document.querySelector(cell)?.textContent === n,
      [viewersCell, String(shown + 1)] as const,
      { timeout: 5000 },
    );
    const viewerMs = performance.now() - t0;
    console.log(`operator page: a new viewer shown ${viewerMs.toFixed(0)} ms after the session call`);
    expect(viewerMs).toBeLessThan(BOUND_MS + 500);
    // The push was the one path: the page stayed on it, and every API read it tried (the full read a `stream` or
    // `recording` event asks for) failed.
    expect(await page.getAttribute('body', 'data-updates')).toBe('push');
    expect(blocked).toBeGreaterThan(0);
    await page.close();
  }, 120_000);
});
