import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingSinks } from '../../containers/ingest/src/recording/recorder.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { recordingKeys } from '../../core/contracts/names.js';
import { usePackagerFixture } from '../core/packager-support.js';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';

/** 4 s of the real test source, recorded twice across a transcoder restart: an 8 s VOD recording. */
const fixture = usePackagerFixture('mirror-recording-play-', 4);
const B = 'mh3k2x9a7q4f';
const noSink = {
  open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
};

const PAGE = `<!doctype html><video id="v" muted></video><script src="/hls.min.js"></script><script>
window.errors = [];
const video = document.getElementById('v');
const hls = new Hls();
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.errors.push(d.details); });
hls.loadSource('/' + location.hash.slice(1));
hls.attachMedia(video);
video.playbackRate = 2;
hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
video.addEventListener('ended', () => { window.endedAt = video.currentTime; });
</script>`;

/** Stock Shaka Player on the same multivariant: its own HLS parser and MSE pipeline (D40, amended). */
const SHAKA_PAGE = `<!doctype html><video id="v" muted></video><script src="/shaka.js"></script><script>
window.errors = [];
const video = document.getElementById('v');
shaka.polyfill.installAll();
const player = new shaka.Player();
player.addEventListener('error', (e) => window.errors.push(String(e.detail && e.detail.code)));
video.addEventListener('ended', () => { window.endedAt = video.currentTime; window.duration = video.duration; });
player.attach(video)
  .then(() => player.load('/' + location.hash.slice(1)))
  .then(() => { video.playbackRate = 2; return video.play(); })
  .catch((e) => window.errors.push('load:' + (e.code || e)));
</script>`;
const SHAKA_JS = readFile(
  createRequire(import.meta.url).resolve('shaka-player/dist/shaka-player.compiled.js'),
);

describe('a recording plays to its end in hls.js and Shaka (Chromium)', () => {
  let server: Server | undefined;
  let port: number;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  beforeAll(async () => {
    const storage = new LocalDiskStorage(fixture.dir);
    const sinks = new RecordingSinks(noSink, {
      storage,
      redis: fixture.redis.client(),
      logger: { warn: () => undefined, info: () => undefined },
      retentionDays: 30,
    });
    const sink = sinks.open('play-1', '360p', { broadcast: B });
    sink.write(fixture.source);
    sink.restart();
    sink.write(fixture.source);
    await sink.end();

    const hlsJs = await readFile(join(import.meta.dirname, '../../node_modules/hls.js/dist/hls.min.js'));
    const shakaJs = await SHAKA_JS;
    port = await freePort();
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      if (path === '/shaka') return void res.writeHead(200, { 'content-type': 'text/html' }).end(SHAKA_PAGE);
      if (path === '/hls.min.js')
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
      if (path === '/shaka.js')
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(shakaJs);
      storage.get(path.slice(1)).then(
        (bytes) => (bytes ? res.writeHead(200).end(bytes) : res.writeHead(404).end()),
        () => res.writeHead(400).end(),
      );
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    browser = await launchChromium();
  }, 40_000);

  it('plays the VOD multivariant to the end in hls.js without a fatal error, across the discontinuity', async () => {
    const page = await browser!.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/#${recordingKeys.multivariant('play-1', B)}`);
    await page.waitForFunction(() => (window as { endedAt?: number }).endedAt !== undefined, undefined, {
      timeout: 20_000,
    });
    const result = await page.evaluate(() => ({
      endedAt: (window as unknown as { endedAt: number }).endedAt,
      errors: (window as unknown as { errors: string[] }).errors,
    }));
    expect(result.errors).toEqual([]);
    expect(Math.abs(result.endedAt - 8)).toBeLessThan(1);
    await page.close();
  }, 30_000);

  it('plays it to the end in stock Shaka without an error, its duration within 1 s of the broadcast', async () => {
    const page = await browser!.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/shaka#${recordingKeys.multivariant('play-1', B)}`);
    const done = () =>
      page.evaluate(() => {
        const w = window as unknown as { endedAt?: number; duration?: number; errors: string[] };
        return { endedAt: w.endedAt, duration: w.duration, errors: w.errors };
      });
    await page
      .waitForFunction(
        () => {
          const w = window as unknown as { endedAt?: number; errors: string[] };
          return w.endedAt !== undefined || w.errors.length > 0;
        },
        undefined,
        { timeout: 20_000 },
      )
      .catch(async (error) => {
        throw new Error(`Shaka did not end: ${JSON.stringify(await done())} (${error})`);
      });
    const result = await done();
    expect(result.errors).toEqual([]);
    // Two 4 s runs of the source across the restart: 8 s recorded, 8 s played.
    expect(Math.abs(result.endedAt! - 8)).toBeLessThan(1);
    expect(Math.abs(result.duration! - 8)).toBeLessThan(1);
    await page.close();
  }, 30_000);
});
