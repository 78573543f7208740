import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { SHAKA_LIVE_CONFIG } from '../web/src/embed/player-configs.js';
import { percentile } from './latency-harness.js';

/**
 * Players Mirror does not control, as an integrator pastes the playlist URL into them (issue 13), in headless Chromium
 * through the edge: stock hls.js (`lowLatencyMode: true` only), stock Shaka Player (`streaming.lowLatencyMode: true`
 * only), and Mirror's embeddable player (`<mirror-player>`, web/src/embed/mirror-player.ts, served by the edge as
 * /mirror-player.js: the viewer's settings). Each plays in its own iframe of one page, so the requests each makes are
 * counted apart (every frame has its own resource timeline) while all share one visible page (no background-tab
 * throttling). Used by bench/latency.ts and the e2e test.
 */

export const STOCK_PLAYERS = ['hlsjs', 'shaka', 'mirror'] as const;
export type StockPlayer = (typeof STOCK_PLAYERS)[number];
/** A frame: a player's name, or a player's name with a suffix for a second copy of it (`hlsjs-b`). */
export type StockFrame = StockPlayer | `${StockPlayer}-${string}`;

export interface StockPlayerReport {
  readonly player: StockFrame;
  /** Wall clock minus the PROGRAM-DATE-TIME of the frame on screen (ms), one sample every sampleEveryMs. */
  readonly latenciesMs: number[];
  /** The player's own distance behind the live edge (hls.js `latency`, Shaka `stats.liveLatency`), ms. */
  readonly behindEdgeMs: number[];
  /** `waiting` events after playback started. */
  readonly stalls: number;
  readonly droppedFrames: number;
  readonly playlistRequests: number;
  readonly mediaRequests: number;
  /** Seconds from the first sample to the last (what the request rates are over). */
  readonly sampledS: number;
  readonly currentTimeStart: number;
  readonly currentTimeEnd: number;
  readonly startupMs: number | null;
  readonly errors: string[];
  /** Player-specific figures: the first playlist's age, the start position, Shaka's gap jumps and stall count. */
  readonly diagnostics: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
/** `STOCK_PLAYERS_DEBUG=1`: Shaka's debug build (readable stacks in the errors reported) for diagnosis. */
const SHAKA_BUILD = process.env.STOCK_PLAYERS_DEBUG
  ? 'shaka-player.compiled.debug.js'
  : 'shaka-player.compiled.js';
const SHAKA_JS = readFileSync(require.resolve(`shaka-player/dist/${SHAKA_BUILD}`), 'utf8');

/** One player per frame; `#kind` picks it, `?src=` the playlist. */
const PLAYER_PAGE = `<!doctype html><html><head><meta charset="utf-8">
<style>body{margin:0;background:#111}video,mirror-player{width:320px;height:180px;display:block}</style>
<script src="hls.min.js"></script><script src="shaka.js"></script></head><body><script>
// A frame is named after its player, with an optional suffix for a second copy (\`hlsjs-b\`, bench/start-offset-ab.ts).
const kind = location.hash.slice(1).split('-')[0];
const src = new URL(location.href).searchParams.get('src');
const s = { kind, latencies: [], behind: [], stalls: 0, playing: false, attachedAt: Date.now(), startupMs: null,
  playlists: 0, media: 0, firstSampleAt: null, lastSampleAt: null, firstTime: null, errors: [], diag: {} };
window.__s = s;
performance.setResourceTimingBufferSize(1000000);
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const path = new URL(e.name).pathname;
    if (path.endsWith('.m3u8')) s.playlists++; else if (/\\.(m4s|mp4)$/.test(path)) s.media++;
    // Parts against whole segments: a player that falls back to segments fetches media already buffered as parts.
    const file = path.slice(path.lastIndexOf('/') + 1);
    const media = file.startsWith('part-') ? 'parts' : file.startsWith('seg-') ? 'segments' : null;
    if (media) s.diag[media] = (s.diag[media] || 0) + 1;
  }
}).observe({ type: 'resource', buffered: true });
function watch(video) {
  video.addEventListener('playing', () => {
    if (s.startupMs === null) s.startupMs = Date.now() - s.attachedAt;
    s.playing = true;
  });
  video.addEventListener('waiting', () => { if (s.playing) s.stalls++; s.playing = false; });
}
function partEndPdt(details) {
  const part = details.partList && details.partList[details.partList.length - 1];
  if (!part || !part.fragment.programDateTime) return null;
  return part.fragment.programDateTime + (part.start - part.fragment.start + part.duration) * 1000;
}
function stockHls(video) {
  const hls = new Hls({ lowLatencyMode: true });
  hls.once(Hls.Events.LEVEL_LOADED, (_e, d) => {
    const end = partEndPdt(d.details);
    // How old the first media playlist was when it arrived: its newest part's end against the clock, minus the
    // same figure for the playlists that follow (the ingest pipeline's share), gives what a cache added.
    s.diag.firstPlaylistEdgeAgeMs = end === null ? null : Date.now() - end;
    s.diag.firstPlaylistAgeHeader = d.details.ageHeader;
    s.loadedAt = Date.now();
  });
  hls.once(Hls.Events.FRAG_BUFFERED, () => {
    // hls.js computes its start position when the first playlist loads and seeks there once media is buffered: the
    // time in between is delay it keeps for good.
    s.diag.levelLoadedToBufferedMs = Date.now() - s.loadedAt;
  });
  const later = [];
  hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => {
    const end = partEndPdt(d.details);
    if (end !== null && later.length < 200) later.push(Date.now() - end);
  });
  s.diag.laterEdgeAges = later;
  video.addEventListener('playing', () => {
    if (s.diag.startBehindSyncS === undefined && hls.liveSyncPosition !== null)
      s.diag.startBehindSyncS = +(hls.liveSyncPosition - video.currentTime).toFixed(3);
  });
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) s.errors.push(d.type + ':' + d.details); });
  hls.loadSource(src);
  hls.attachMedia(video);
  return { date: () => hls.playingDate, behindS: () => hls.latency };
}
function stockShaka(video, config) {
  shaka.polyfill.installAll();
  const player = new shaka.Player();
  player.configure(config);
  const fail = (what) => { if (s.errors.length < 20) s.errors.push(what); else s.moreErrors = (s.moreErrors || 0) + 1; };
  player.addEventListener('error', (e) => {
    const d = e.detail || {};
    // A code-less error is a script exception inside Shaka: its stack says where.
    fail('shaka:' + d.code + ':' + d.severity + ':' + String(d.message || '').slice(0, 80) + ':' +
      JSON.stringify(d.data || []).slice(0, 160) + (d.code === undefined && d.stack ? ':' + String(d.stack).slice(0, 600) : ''));
  });
  player.attach(video).then(() => player.load(src)).catch((e) => fail('shaka load:' + (e.code || e)));
  const atStalls = [];
  video.addEventListener('waiting', () => {
    // Where the playhead stood against the buffer, the seek range and the PROGRAM-DATE-TIME clock at each stall.
    if (atStalls.length >= 10 || !s.playing) return;
    const b = video.buffered;
    const range = player.seekRange();
    const start = player.getPresentationStartTimeAsDate();
    const pdt = player.getPlayheadTimeAsDate();
    atStalls.push({ bufferAheadMs: b.length ? Math.round((b.end(b.length - 1) - video.currentTime) * 1000) : null,
      ranges: b.length, seekEndMinusTimeMs: Math.round((range.end - video.currentTime) * 1000),
      // The seek-range end as a date (presentation start + range end): how far behind the clock Shaka's own edge is.
      clockMinusSeekEndMs: start ? Math.round(Date.now() - start.getTime() - range.end * 1000) : null,
      pdtLatencyMs: pdt ? Date.now() - pdt.getTime() : null });
  });
  s.diag.shaka = () => {
    const st = player.getStats();
    return { gapsJumped: st.gapsJumped, stallsDetected: st.stallsDetected, atStalls };
  };
  return {
    date: () => (player.isLive() && s.playing ? player.getPlayheadTimeAsDate() : null),
    behindS: () => player.getStats().liveLatency,
  };
}
async function mirror() {
  // The embed as integrators load it: the module the edge serves (docs/player.md).
  await import('/mirror-player.js');
  await customElements.whenDefined('mirror-player');
  const el = document.createElement('mirror-player');
  el.setAttribute('src', src);
  document.body.appendChild(el);
  return { video: el.video, date: () => el.hls && el.hls.playingDate, behindS: () => el.hls ? el.hls.latency : NaN };
}
window.__start = async (sampleEveryMs, shakaConfig) => {
  let player, video;
  if (kind === 'mirror') { player = await mirror(); video = player.video; }
  else {
    video = document.createElement('video');
    video.muted = true; video.autoplay = true; video.playsInline = true;
    document.body.appendChild(video);
    player = kind === 'shaka' ? stockShaka(video, shakaConfig) : stockHls(video);
  }
  watch(video);
  s.video = video;
  setInterval(() => {
    const date = player.date();
    if (!s.playing || !date) return;
    const now = Date.now();
    if (s.firstTime === null) { s.firstTime = video.currentTime; s.firstSampleAt = now; s.playlists0 = s.playlists; s.media0 = s.media; }
    s.lastSampleAt = now;
    s.latencies.push(now - date.getTime());
    const behind = player.behindS();
    if (Number.isFinite(behind)) s.behind.push(Math.round(behind * 1000));
  }, sampleEveryMs);
};
window.__report = () => {
  const q = s.video && s.video.getVideoPlaybackQuality ? s.video.getVideoPlaybackQuality() : { droppedVideoFrames: 0 };
  const diag = Object.assign({}, s.diag);
  if (typeof diag.shaka === 'function') diag.shaka = diag.shaka();
  if (Array.isArray(diag.laterEdgeAges)) {
    const sorted = diag.laterEdgeAges.slice().sort((a, b) => a - b);
    diag.laterEdgeAgeP50Ms = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
    delete diag.laterEdgeAges;
  }
  return { player: location.hash.slice(1), latenciesMs: s.latencies, behindEdgeMs: s.behind, stalls: s.stalls,
    droppedFrames: q.droppedVideoFrames, playlistRequests: s.playlists - (s.playlists0 || 0),
    mediaRequests: s.media - (s.media0 || 0),
    sampledS: s.firstSampleAt === null ? 0 : (s.lastSampleAt - s.firstSampleAt) / 1000,
    currentTimeStart: s.firstTime || 0, currentTimeEnd: s.video ? s.video.currentTime : 0,
    startupMs: s.startupMs, errors: s.moreErrors ? s.errors.concat('+' + s.moreErrors + ' more') : s.errors,
    diagnostics: diag };
};
</script></body></html>`;

/** What the frames load from /__stock/ (answered by the browser driver, not the edge). */
const STOCK_FILES: Record<string, { contentType: string; body: string }> = {
  // A blank page of the edge's origin to hold the frames: the viewer's own pages forbid frames (their CSP, D39).
  'host.html': { contentType: 'text/html', body: '<!doctype html><html><body></body></html>' },
  'player.html': { contentType: 'text/html', body: PLAYER_PAGE },
  'hls.min.js': { contentType: 'text/javascript', body: HLS_JS },
  'shaka.js': { contentType: 'text/javascript', body: SHAKA_JS },
};

/** Answers the frames' /__stock/ requests on `page`; everything else goes to the edge. */
async function routeStock(page: Page, origin: string): Promise<void> {
  await page.route(`${origin}/__stock/*`, (route) => {
    const file = STOCK_FILES[new URL(route.request().url()).pathname.slice('/__stock/'.length)];
    return file === undefined ? route.fallback() : route.fulfill({ status: 200, ...file });
  });
}

/** A new page of `origin` with nothing on it, for addStockPlayers beside a page that forbids frames. */
export async function openStockHost(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage();
  await routeStock(page, origin);
  await page.goto(`${origin}/__stock/host.html`);
  return page;
}

/**
 * Adds a frame per player to `page` (a page of `origin`, the edge, so /mirror-player.js is the build the edge serves),
 * each playing `src`, and starts them. The frames' requests for /__stock/* are answered here.
 */
export async function addStockPlayers(
  page: Page,
  origin: string,
  src: string,
  players: readonly StockFrame[] = STOCK_PLAYERS,
  sampleEveryMs = 250,
): Promise<void> {
  await routeStock(page, origin);
  await addFrames(page, src, players, sampleEveryMs);
}

async function addFrames(
  page: Page,
  src: string,
  players: readonly StockFrame[],
  sampleEveryMs: number,
): Promise<void> {
  await page.evaluate(
    ([names, url]) => {
      for (const name of names) {
        const frame = document.createElement('iframe');
        frame.name = name;
        frame.width = '330';
        frame.height = '190';
        frame.style.border = '0';
        frame.src = `/__stock/player.html?src=${encodeURIComponent(url)}#${name}`;
        document.body.appendChild(frame);
      }
    },
    [players, src] as const,
  );
  for (const name of players) {
    const frame = await waitForFrame(page, name);
    await frame.waitForFunction(
      () => typeof (window as unknown as { __start?: unknown }).__start === 'function',
    );
    await frame.evaluate(
      ([every, config]) =>
        (window as unknown as { __start(e: number, c: unknown): Promise<void> }).__start(every, config),
      [sampleEveryMs, SHAKA_LIVE_CONFIG] as const,
    );
  }
}

async function waitForFrame(page: Page, name: string): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    const frame = page.frame({ name });
    if (frame !== null) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error(`no frame for ${name}`);
}

export async function readStockReports(
  page: Page,
  players: readonly StockFrame[] = STOCK_PLAYERS,
): Promise<StockPlayerReport[]> {
  const reports: StockPlayerReport[] = [];
  for (const name of players) {
    const frame = page.frame({ name });
    if (frame === null) continue;
    reports.push(
      await frame.evaluate(() => (window as unknown as { __report(): StockPlayerReport }).__report()),
    );
  }
  return reports;
}

/** The row a benchmark prints for one player. */
export function summarizeStock(report: StockPlayerReport) {
  const minutes = report.sampledS / 60;
  return {
    player: report.player,
    samples: report.latenciesMs.length,
    p50_ms: percentile(report.latenciesMs, 50),
    p95_ms: percentile(report.latenciesMs, 95),
    behind_edge_p50_ms: percentile(report.behindEdgeMs, 50),
    stalls: report.stalls,
    stalls_per_min: minutes > 0 ? +(report.stalls / minutes).toFixed(2) : null,
    dropped_frames: report.droppedFrames,
    playlist_req_s: report.sampledS > 0 ? +(report.playlistRequests / report.sampledS).toFixed(2) : null,
    media_req_s: report.sampledS > 0 ? +(report.mediaRequests / report.sampledS).toFixed(2) : null,
    played_s: +(report.currentTimeEnd - report.currentTimeStart).toFixed(1),
    startup_ms: report.startupMs,
    errors: report.errors,
    diagnostics: report.diagnostics,
  };
}
