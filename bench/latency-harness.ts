import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { LIVE_HLS_CONFIG } from '../web/src/live-catchup.js';

/**
 * hls.js players in headless Chromium, measuring what a viewer sees: ingest-to-display latency as
 * wall clock minus `hls.playingDate` (the EXT-X-PROGRAM-DATE-TIME of the frame on screen), whether
 * currentTime advances, stalls (`waiting` after playback started) and fatal errors.
 * Shared by the end-to-end test and bench/latency.ts.
 */

export interface PlayerTarget {
  readonly name: string;
  /** Playlist URL, absolute or relative to the page origin. */
  readonly url: string;
  /** hls.js settings for this player, over the page-wide ones. */
  readonly hlsConfig?: Record<string, unknown>;
  /**
   * Aim as the viewer's tiles do (web/src/viewer/tile-player.ts): at the loaded level's PART-HOLD-BACK plus the slack
   * (`liveTargetFor`), and jump once to the live sync point when the first media is buffered.
   */
  readonly viewerTarget?: boolean;
}

export interface PlayerReport {
  readonly name: string;
  /** Latency samples (ms), one every sampleEveryMs once playback runs. */
  readonly latenciesMs: number[];
  /** Distance behind the playlist's live edge (`hls.latency`, ms), sampled with latenciesMs. */
  readonly behindEdgeMs: number[];
  /** hls.js's own estimate (`hls.latency`, s) at the end. */
  readonly hlsLatencyS: number | null;
  readonly currentTimeStart: number;
  readonly currentTimeEnd: number;
  readonly stalls: number;
  /** `getVideoPlaybackQuality().droppedVideoFrames` at the end. */
  readonly droppedFrames: number;
  readonly fatalErrors: string[];
  readonly nonFatalErrors: Record<string, number>;
  /** Wall-clock ms from attach to the first `playing` event. */
  readonly startupMs: number | null;
  /** LL-HLS parts seen in playlists (0 for regular HLS). */
  readonly partTargetS: number | null;
}

const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
/** The viewer's live catch-up, as a script exposing `MirrorLive`: players here behave like the viewer's. */
const CATCH_UP_JS = buildSync({
  entryPoints: [fileURLToPath(new URL('./harness-player.ts', import.meta.url))],
  bundle: true,
  format: 'iife',
  globalName: 'MirrorLive',
  write: false,
}).outputFiles[0]?.text;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>mirror player harness</title>
<style>body{margin:0;background:#111;display:flex;flex-wrap:wrap}video{width:320px;height:180px}</style>
<script src="hls.min.js"></script><script src="live-catchup.js"></script></head><body><script>
window.__players = [];
window.__start = (targets, sampleEveryMs) => {
  for (const target of targets) {
    const video = document.createElement('video');
    video.muted = true; video.autoplay = true; video.playsInline = true;
    document.body.appendChild(video);
    const hls = new Hls(Object.assign({ lowLatencyMode: true, backBufferLength: 10 }, window.__hlsConfig, target.hlsConfig));
    const p = { name: target.name, hls, video, latencies: [], behind: [], stalls: 0, fatal: [], nonFatal: {}, playing: false,
      attachedAt: Date.now(), startupMs: null, partTarget: null, firstTime: null };
    hls.on(Hls.Events.ERROR, (_e, d) => {
      const key = d.type + ':' + d.details;
      if (d.fatal) p.fatal.push(key); else p.nonFatal[key] = (p.nonFatal[key] || 0) + 1;
    });
    hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => { if (d.details.partTarget) p.partTarget = d.details.partTarget; });
    video.addEventListener('playing', () => {
      if (!p.playing && p.startupMs === null) p.startupMs = Date.now() - p.attachedAt;
      p.playing = true;
    });
    video.addEventListener('waiting', () => { if (p.playing) p.stalls++; p.playing = false; });
    MirrorLive.attachLiveCatchUp(hls, video);
    if (target.viewerTarget) {
      let applied, synced = false;
      hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => {
        const t = MirrorLive.liveTargetFor(d.details.partHoldBack, applied);
        if (t !== undefined) { applied = t; hls.targetLatency = t; }
      });
      hls.on(Hls.Events.FRAG_BUFFERED, () => {
        const sync = hls.liveSyncPosition;
        if (synced || sync === null) return;
        synced = true;
        if (video.currentTime < sync - 0.5) video.currentTime = sync;
      });
    }
    hls.loadSource(target.url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    window.__players.push(p);
  }
  setInterval(() => {
    for (const p of window.__players) {
      const date = p.hls.playingDate;
      if (p.playing && date) {
        if (p.firstTime === null) p.firstTime = p.video.currentTime;
        p.latencies.push(Date.now() - date.getTime());
        if (Number.isFinite(p.hls.latency)) p.behind.push(Math.round(p.hls.latency * 1000));
      }
    }
  }, sampleEveryMs);
};
window.__report = () => window.__players.map((p) => ({
  name: p.name, latenciesMs: p.latencies, behindEdgeMs: p.behind, hlsLatencyS: Number.isFinite(p.hls.latency) ? p.hls.latency : null,
  currentTimeStart: p.firstTime ?? 0, currentTimeEnd: p.video.currentTime, stalls: p.stalls, fatalErrors: p.fatal,
  droppedFrames: p.video.getVideoPlaybackQuality ? p.video.getVideoPlaybackQuality().droppedVideoFrames : 0,
  nonFatalErrors: p.nonFatal, startupMs: p.startupMs, partTargetS: p.partTarget }));
</script></body></html>`;

/**
 * Opens the harness on `origin` (its requests for /__harness/* are answered by the test, the rest go
 * to the real server: same origin, so playlists travel over the edge's HTTP/2 connection).
 */
export async function openHarness(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage();
  await page.route(`${origin}/__harness/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.endsWith('hls.min.js')) {
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: HLS_JS });
    } else if (url.pathname.endsWith('live-catchup.js')) {
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: CATCH_UP_JS });
    } else {
      await route.fulfill({ status: 200, contentType: 'text/html', body: PAGE });
    }
  });
  await page.goto(`${origin}/__harness/index.html`);
  return page;
}

/**
 * hls.js settings for every player: hls.js's defaults (for LL-HLS it targets the playlist's
 * PART-HOLD-BACK; for regular HLS three segments) with the viewer's live settings and catch-up
 * (web/src/live-catchup.ts).
 */
export const HLS_CONFIG: Record<string, unknown> = { ...LIVE_HLS_CONFIG };

/** Forces a target latency; a re-sync (`liveMaxLatencyDuration`) needs `liveSyncDuration` set too. */
export function hlsConfigWithTarget(targetS: number): Record<string, unknown> {
  return { ...HLS_CONFIG, liveSyncDuration: targetS, liveMaxLatencyDuration: targetS + 1.2 };
}

export async function startPlayers(
  page: Page,
  targets: readonly PlayerTarget[],
  sampleEveryMs = 250,
  hlsConfig: Record<string, unknown> = HLS_CONFIG,
): Promise<void> {
  await page.evaluate((config) => {
    (window as unknown as { __hlsConfig: unknown }).__hlsConfig = config;
  }, hlsConfig);
  await page.evaluate(
    ([t, every]) => (window as unknown as { __start(t: unknown, e: number): void }).__start(t, every),
    [targets, sampleEveryMs] as const,
  );
}

export async function readReports(page: Page): Promise<PlayerReport[]> {
  return page.evaluate(() => (window as unknown as { __report(): PlayerReport[] }).__report());
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? null;
}
