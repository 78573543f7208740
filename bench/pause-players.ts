// Players through a pause (decision D32): the local platform with one SRT stream, Mirror's viewer and stock hls.js and
// Shaka in headless Chromium; pause for --pause-s (default 600: the 10 minutes), resume, and report whether
// each player stayed alive (no fatal error, currentTime advancing through the pause) and how soon after resume the
// ingest published the input again.
// Usage: npx tsx bench/pause-players.ts [--pause-s 60] [--after-s 20]
// Heavy (Chromium + the platform + ffmpeg): not for a machine another measurement is running on.
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser.js';
import { startTempPlatform } from '../test/support/platform.js';
import { addStockPlayers, readStockReports, summarizeStock } from './stock-players.js';

const { values } = parseArgs({
  options: { 'pause-s': { type: 'string', default: '600' }, 'after-s': { type: 'string', default: '20' } },
});
const PAUSE_S = Number(values['pause-s']);
const AFTER_S = Number(values['after-s']);
const PLAYERS = ['hlsjs', 'shaka'] as const;

interface Tile {
  currentTime: number;
  fatalErrors: string[];
  state: string;
}

const readTile = (page: Page): Promise<Tile | undefined> =>
  page.$eval('.tile[data-stream]:not([data-stream=""])', (el) => {
    const d = (el as HTMLElement).dataset;
    return {
      currentTime: Number(d.currentTime ?? 0),
      fatalErrors: (d.fatalErrors ?? '').split(',').filter(Boolean),
      state: d.state ?? '',
    };
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const running = await startTempPlatform('pause', { streams: 1, ladder: 'tile', gpu: 'off', feed: 'srt' });
const { platform } = running;
const id = platform.streams[0]?.id as string;
const control = (action: string) =>
  fetch(`${platform.urls.http}/api/control/streams/${id}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.controlToken}` },
  });
const state = async () => (await platform.status()).find((s) => s.id === id);
const browser = await launchChromium();
try {
  for (let i = 0; (await fetch(`${platform.urls.http}/${id}/master.m3u8`)).status !== 200; i++) {
    if (i > 80) throw new Error('the stream did not go live');
    await sleep(500);
  }
  const page = await browser.context.newPage();
  await page.goto(`${platform.urls.https}/?layout=1x1&streams=${id}`);
  await addStockPlayers(page, platform.urls.https, `/${id}/master.m3u8`, PLAYERS);
  await sleep(10_000);
  const before = await readTile(page);

  const paused = await control('pause');
  console.log(`pause: ${paused.status}; paused for ${PAUSE_S} s`);
  const samples: number[] = [];
  for (let t = 0; t < PAUSE_S; t += 10) {
    await sleep(10_000);
    samples.push((await readTile(page))?.currentTime ?? 0);
  }
  const atResume = await readTile(page);
  const resumed = await control('resume');
  const resumedAt = Date.now();
  let liveAfterMs: number | null = null;
  while (Date.now() - resumedAt < 10_000) {
    if ((await state())?.state === 'live') {
      liveAfterMs = Date.now() - resumedAt;
      break;
    }
    await sleep(100);
  }
  await sleep(AFTER_S * 1000);
  const after = await readTile(page);
  const stock = (await readStockReports(page, PLAYERS)).map(summarizeStock);
  console.log(
    JSON.stringify(
      {
        pauseS: PAUSE_S,
        resume: resumed.status,
        statusLiveAfterResumeMs: liveAfterMs,
        viewer: {
          playedDuringPauseS: +((atResume?.currentTime ?? 0) - (before?.currentTime ?? 0)).toFixed(1),
          playedAfterResumeS: +((after?.currentTime ?? 0) - (atResume?.currentTime ?? 0)).toFixed(1),
          currentTimeEvery10s: samples.map((s) => +s.toFixed(1)),
          fatalErrors: after?.fatalErrors,
          state: after?.state,
        },
        stock: stock.map((s) => ({
          player: s.player,
          played_s: s.played_s,
          stalls: s.stalls,
          errors: s.errors,
        })),
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await running.stop();
}
