import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStockPlayers, openStockHost, readStockReports } from '../../bench/stock-players.js';
import type { Platform } from '../../local/platform.js';
import { makeClip, type Pusher } from '../ingest/media.js';
import { pushRtp } from '../rtp/media.js';
import { launchChromium } from '../support/browser.js';
import { startTempPlatform, type TempPlatform } from '../support/platform.js';

let running: TempPlatform | undefined;
let platform: Platform;
let pusher: Pusher | undefined;

beforeAll(async () => {
  running = await startTempPlatform('rtp-play', { streams: 0, ownStream: true, ladder: 'tile', gpu: 'off' });
  platform = running.platform;
}, 90_000);

afterAll(async () => {
  await pusher?.stop();
  await running?.stop();
});

describe('RTP/MPEG-TS with SRTP through the whole platform (decisions D45, D46)', () => {
  it('the studio RTP stream, sent as npm start prints it, plays in stock hls.js', async () => {
    const example = platform.rtpExample;
    expect(example).toBeDefined();
    // The key and port from the printed command: what an operator copies into an encoder.
    const key = /-srtp_out_params (\S+)/.exec(example!.command)?.[1];
    const port = Number(new URL(example!.url).port);
    expect(key).toMatch(/^[A-Za-z0-9+/]{40}$/);
    pusher = pushRtp({
      clip: makeClip({ codec: 'h264', width: 640, height: 360, seconds: 2 }),
      port,
      srtp: key,
    });
    // The player opens once the stream is live, as a viewer's would: under the whole suite going live can take
    // longer than hls.js's first manifest load waits, which would be a fatal error of the test's making.
    const master = `${platform.urls.http}/${example!.id}/master.m3u8`;
    await expect.poll(async () => (await fetch(master)).status, { timeout: 30_000, interval: 250 }).toBe(200);
    const browser = await launchChromium();
    try {
      const page = await openStockHost(browser.context, platform.urls.https);
      await addStockPlayers(page, platform.urls.https, `/${example!.id}/master.m3u8`, ['hlsjs']);
      await page.waitForTimeout(10_000);
      const [report] = await readStockReports(page, ['hlsjs']);
      expect(report!.errors).toEqual([]);
      expect(report!.currentTimeEnd - report!.currentTimeStart).toBeGreaterThan(3);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
