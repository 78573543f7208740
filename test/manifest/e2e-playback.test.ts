import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpResponse } from '../../core/http.js';
import { Packager } from '../../core/packager/index.js';
import { contentTypeOf, keyOf, mediaKeys, parseMediaPath } from '../../core/storage/index.js';
import { createManifestApp, manifestDepsFromRedis } from '../../functions/manifest/app.js';
import { launchChromium } from '../support/browser.js';
import { ffprobeFrames, testSourceArgs } from '../support/media.js';
import { freePort } from '../support/ports.js';
import { type RedisServer, startRedis } from '../support/redis.js';

/** 20 s of playback in two phases. */
const STARTUP_SECONDS = 8;
const SYNCED_SECONDS = 12;
const PLAY_SECONDS = STARTUP_SECONDS + SYNCED_SECONDS;
const PAGE = `<!doctype html><html><body><video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.errors = [];
  const video = document.getElementById('v');
  const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
  window.hls = hls;
  window.warnings = [];
  hls.on(Hls.Events.ERROR, (_, data) => {
    (data.fatal ? window.errors : window.warnings).push(data.type + ':' + data.details + ':' + (data.frag ? data.frag.sn : '') + ':' + (data.part ? data.part.index : ''));
  });
  hls.loadSource('/e2e/master.m3u8');
  hls.attachMedia(video);
  video.play().catch(() => {});
</script></body></html>`;

describe('end to end: ffmpeg -> packager -> redis + disk -> manifest app -> hls.js in chromium', () => {
  let redis: RedisServer;
  let dir: string;
  let ffmpeg: ChildProcess;
  let server: Server;
  let port: number;
  let ended: Promise<void>;
  let storage: LocalDiskStorage;
  let live: LiveState;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    // Chromium first: on a busy 2-core machine its start-up can take seconds the live stream should not run ahead by.
    browser = await launchChromium();
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'mirror-e2e-'));
    storage = new LocalDiskStorage(dir);
    live = new LiveState(redis.client());
    const packager = new Packager({
      storage,
      live,
      partTargetMs: 100,
      segmentTargetMs: 500,
    });
    const sink = packager.open('e2e', '360p');
    ffmpeg = spawn('ffmpeg', testSourceArgs({ realtime: true }), { stdio: ['ignore', 'pipe', 'inherit'] });
    ffmpeg.stdout!.on('data', (chunk: Buffer) => sink.write(chunk));
    ended = new Promise((resolve) => ffmpeg.once('exit', () => resolve()));

    const app = createManifestApp(manifestDepsFromRedis(redis.client(), storage));
    const hlsJs = await readFile(join(import.meta.dirname, '../../node_modules/hls.js/dist/hls.min.js'));
    port = await freePort();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
        return;
      }
      if (url.pathname === '/hls.min.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
        return;
      }
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      if (process.env.MIRROR_E2E_LOG) process.stderr.write(`${Date.now() % 100_000} ${req.url}\n`);
      // As CloudFront's origin group: media from storage first, a miss to the manifest app (which holds hinted parts).
      const answer = async (): Promise<HttpResponse> => {
        const media = parseMediaPath(url.pathname);
        const stored = media === undefined ? undefined : await storage.get(keyOf(media));
        if (media !== undefined && stored !== undefined) {
          return { status: 200, headers: { 'content-type': contentTypeOf(media.kind) }, body: stored };
        }
        const query = Object.fromEntries(url.searchParams);
        return app.handle(
          { method: req.method ?? 'GET', path: url.pathname, query, headers: {} },
          abort.signal,
        );
      };
      answer()
        .then((response) => {
          res.writeHead(response.status, response.headers).end(response.body);
        })
        .catch((error: unknown) => {
          res.writeHead(500).end(String(error));
        });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    // The player starts once the stream is live (a 404 multivariant playlist is fatal to hls.js).
    const deadline = Date.now() + 15_000;
    while (
      (await app.handle({ method: 'GET', path: '/e2e/master.m3u8', query: {}, headers: {} })).status !== 200
    ) {
      if (Date.now() > deadline) throw new Error('the stream did not go live within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    await browser?.close();
    ffmpeg?.kill('SIGKILL');
    await ended;
    await new Promise((r) => server?.close(r));
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`hls.js plays for ${PLAY_SECONDS} s with currentTime advancing and reports its latency`, async () => {
    {
      const page = await browser.context.newPage();
      page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(
        () => (document.getElementById('v') as HTMLVideoElement).currentTime > 0,
        null,
        {
          timeout: 15_000,
        },
      );
      const sample = () =>
        page.evaluate(() => {
          const w = window as unknown as {
            hls: { latency: number; targetLatency: number | null; playingDate: Date | null };
            errors: string[];
          };
          return {
            // Wall clock minus the PROGRAM-DATE-TIME of the frame on screen: latency from the ingest anchor.
            pdtLatency:
              w.hls.playingDate === null ? Number.NaN : (Date.now() - w.hls.playingDate.getTime()) / 1000,
            currentTime: (document.getElementById('v') as HTMLVideoElement).currentTime,
            latency: w.hls.latency,
            targetLatency: w.hls.targetLatency,
            errors: w.errors,
          };
        });
      /** Plays `seconds`, sampling once a second; returns how far currentTime advanced and the latency samples. */
      const play = async (seconds: number) => {
        const first = await sample();
        const latencies: number[] = [];
        const pdtLatencies: number[] = [];
        for (let i = 0; i < seconds; i++) {
          await page.waitForTimeout(1000);
          const now = await sample();
          latencies.push(now.latency);
          pdtLatencies.push(now.pdtLatency);
        }
        const last = await sample();
        return { advanced: last.currentTime - first.currentTime, latencies, pdtLatencies, last };
      };
      const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]?.toFixed(3);
      const report = (label: string, r: Awaited<ReturnType<typeof play>>, seconds: number) =>
        console.log(
          `e2e ${label}: played ${r.advanced.toFixed(2)} s in ${seconds} s; hls.latency p50 ${p50(r.latencies)} s; ` +
            `wall clock - PROGRAM-DATE-TIME p50 ${p50(r.pdtLatencies)} s; targetLatency ${r.last.targetLatency} s`,
        );
      // hls.js's own start-up: its start position ages while a slow machine prepares playback, and it only speeds
      // up to catch up within one target duration of its target, so start-up delay stays as latency.
      const startup = await play(STARTUP_SECONDS);
      report('as started', startup, STARTUP_SECONDS);
      // What a viewer's "go live" does: one seek to hls.liveSyncPosition; latency then reflects the pipeline.
      await page.evaluate(() => {
        const w = window as unknown as { hls: { liveSyncPosition: number | null } };
        const video = document.getElementById('v') as HTMLVideoElement;
        if (w.hls.liveSyncPosition !== null) video.currentTime = w.hls.liveSyncPosition;
      });
      const synced = await play(SYNCED_SECONDS);
      report('after go-live seek', synced, SYNCED_SECONDS);
      const end = synced.last;
      const warnings = await page.evaluate(() => (window as unknown as { warnings: string[] }).warnings);
      if (warnings.length > 0) console.log(`hls.js non-fatal errors: ${warnings.slice(0, 10).join(', ')}`);
      expect(end.errors).toEqual([]);
      // Generous for a loaded 2-core CI machine; a stalled or broken stream advances far less.
      expect(startup.advanced).toBeGreaterThan(STARTUP_SECONDS * 0.5);
      expect(synced.advanced).toBeGreaterThan(SYNCED_SECONDS * 0.7);
      expect(Number.isFinite(end.latency) && end.latency > 0).toBe(true);

      // A segment played above, rebuilt from its init segment and parts, decodes cleanly with an IDR first.
      const timeline = (await live.read('e2e'))!.renditions.get('360p')!.timeline;
      const segment = timeline.segments.at(-2)!;
      const parts = await Promise.all(
        Array.from({ length: segment.partCount }, (_, p) =>
          storage.get(mediaKeys.part('e2e', '360p', segment.broadcast, segment.msn, p)),
        ),
      );
      const init = await storage.get(mediaKeys.init('e2e', '360p', segment.broadcast, segment.initVersion));
      const file = join(dir, 'rebuilt.mp4');
      await writeFile(file, Buffer.concat([init!, ...parts.map((p) => p!)]));
      const frames = await ffprobeFrames(file);
      expect(frames.length).toBeGreaterThan(0);
      expect(frames[0]).toMatchObject({ pict_type: 'I', key_frame: 1 });
    }
  });
});
