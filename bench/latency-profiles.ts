// Latency and requests per viewer-second for each latency profile (decision D28), in one run, played by hls.js in
// headless Chromium the way the viewer's tiles play (target = the level's PART-HOLD-BACK + slack, the viewer's
// catch-up):
// - `low` and `standard`: one single-tile viewer each (tile ladder, 360p), fed over SRT through the ingest service;
// - `wall`: one viewer with 6 tiles of a full-ladder `wall` stream, the focused one on 720p (short parts), 5 on 360p
//   (long parts). Its 720p and 360p renditions are fed by direct feeds (ffmpeg straight into the packager, with the
//   profile's per-rendition targets): the full ladder's three encodes (1080p among them) do not fit two cores beside
//   the browser. A direct feed's PROGRAM-DATE-TIME is stamped when its output reaches the packager, after the
//   encode, so `low-direct` (the `low` profile through a direct feed) is measured beside it: the SRT viewer minus
//   it is the SRT hop and transcode the wall's figures leave out.
// Each viewer is its own page; its requests to the edge (playlists, parts, init segments) are counted from the browser
// side over the measuring window, which starts after a warm-up.
// Usage: node --import tsx bench/latency-profiles.ts [--minutes 3] [--warmup-s 20] [--viewers low-1-tile,...]

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { LiveState } from '../core/adapters/live/live-state.js';
import { createRedisClient } from '../core/adapters/redis.js';
import { LADDERS, type Rung, TILE_RUNG } from '../core/ladder.js';
import { type LatencyProfile, PROFILE_TARGETS, renditionTargets } from '../core/latency-profiles.js';
import { Packager } from '../core/packager/index.js';
import { DEFAULT_CLIP } from '../local/encoders/args.js';
import { availableFont, ensureClip } from '../local/encoders/clip.js';
import { DirectFeed } from '../local/encoders/direct.js';
import { ROOT, startPlatform } from '../local/platform.js';
import { launchChromium } from '../test/support/browser.js';
import { answersOk, waitUntil } from './bench-platform.js';
import { openHarness, type PlayerTarget, percentile, readReports, startPlayers } from './latency-harness.js';

const ALL_VIEWERS = ['low-1-tile', 'standard-1-tile', 'low-direct-1-tile', 'wall-6-tiles'] as const;
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    'warmup-s': { type: 'string', default: '20' },
    // A 2-core machine cannot run every viewer at once (two transcodes, three direct encodes and nine players):
    // choose some, e.g. `--viewers low-1-tile`, and run the others after.
    viewers: { type: 'string', default: ALL_VIEWERS.join(',') },
  },
});
const minutes = Number(values.minutes);
const warmupS = Number(values['warmup-s']);
if (!(minutes > 0) || !(warmupS >= 0)) throw new Error('--minutes must be > 0 and --warmup-s >= 0');
const chosen = values.viewers.split(',');
const unknown = chosen.filter((v) => !(ALL_VIEWERS as readonly string[]).includes(v));
if (unknown.length > 0)
  throw new Error(`--viewers: unknown ${unknown.join(', ')} (one of ${ALL_VIEWERS.join(', ')})`);

/** The SRT-fed single-tile viewers chosen: each gets its own synthetic stream (cam-1, cam-2, ...) in this order. */
const SRT_PROFILES = (['low', 'standard'] as const).filter((p) => chosen.includes(`${p}-1-tile`));
const camOf = (profile: LatencyProfile) => `cam-${SRT_PROFILES.indexOf(profile as 'low' | 'standard') + 1}`;

/** One viewer (a page) per entry; the wall's tiles all play wall-1, as six streams of one profile would. */
const VIEWERS: readonly { name: string; profile: LatencyProfile; tiles: PlayerTarget[] }[] = [
  ...SRT_PROFILES.map((profile) => ({
    name: `${profile}-1-tile`,
    profile,
    tiles: [tile(profile, `/${camOf(profile)}/360p/playlist.m3u8`)],
  })),
  {
    name: 'low-direct-1-tile',
    profile: 'low' as const,
    tiles: [tile('low-direct', '/low-direct/360p/playlist.m3u8')],
  },
  {
    name: 'wall-6-tiles',
    profile: 'wall' as const,
    tiles: [
      tile('wall-focused-720p', '/wall-1/720p/playlist.m3u8'),
      ...[1, 2, 3, 4, 5].map((i) => tile(`wall-tile-${i}-360p`, '/wall-1/360p/playlist.m3u8')),
    ],
  },
].filter((v) => chosen.includes(v.name));
const PLAYLISTS = VIEWERS.flatMap((v) => [
  ...new Set(v.tiles.map((t) => t.url.replace(/playlist\.m3u8$/, ''))),
]);

function tile(name: string, url: string): PlayerTarget {
  return { name, url, viewerTarget: true };
}

/** Requests the page made to the edge (not the harness's own assets), by kind, while `counting`. */
function countRequests(page: Page, origin: string) {
  const counts = { playlist: 0, media: 0, other: 0, counting: false };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!counts.counting || url.origin !== origin || url.pathname.startsWith('/__')) return;
    if (url.pathname.endsWith('.m3u8')) counts.playlist++;
    else if (/\.(m4s|mp4)$/.test(url.pathname)) counts.media++;
    else counts.other++;
  });
  return counts;
}

const dataDir = join(ROOT, '.mirror', 'bench-latency-profiles');
rmSync(dataDir, { recursive: true, force: true });
const platform = await startPlatform({
  streams: SRT_PROFILES.length,
  ladder: 'tile',
  gpu: 'off',
  httpsPort: 0,
  httpPort: 0,
  srtPort: 0,
  redisPort: 0,
  dataDir,
  streamSpecs: SRT_PROFILES.map((latencyProfile) => ({ latencyProfile })),
});
const redis = createRedisClient(platform.redisUrl);
const feeds: DirectFeed[] = [];
try {
  const packager = new Packager({
    storage: platform.storage,
    live: new LiveState(redis),
    ...renditionTargets('low', [TILE_RUNG], TILE_RUNG),
  });
  const direct = async (
    id: string,
    profile: LatencyProfile,
    ladder: 'tile' | 'full',
    rungs: readonly Rung[],
  ) => {
    await platform.registry.create({
      id,
      name: id,
      ladder,
      latency: 'low',
      latencyProfile: profile,
      encrypted: false,
      keyLength: 16,
    });
    const clip = await ensureClip(join(dataDir, 'clips'), {
      ...DEFAULT_CLIP,
      label: id,
      toneHz: 660,
      fontFile: availableFont(),
    });
    for (const rung of rungs) {
      const feed = new DirectFeed(id, clip, rung, packager, renditionTargets(profile, LADDERS[ladder], rung));
      feeds.push(feed);
      feed.start();
    }
  };
  if (chosen.includes('low-direct-1-tile')) await direct('low-direct', 'low', 'tile', [TILE_RUNG]);
  if (chosen.includes('wall-6-tiles')) {
    await direct(
      'wall-1',
      'wall',
      'full',
      LADDERS.full.filter((r) => r.name !== '1080p'),
    );
  }
  for (const path of PLAYLISTS) {
    const url = `${platform.urls.http}${path}playlist.m3u8`;
    await waitUntil(`${url} never went live`, () => answersOk(url), 60_000);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const browser = await launchChromium();
  const pages = [];
  for (const viewer of VIEWERS) {
    const page = await openHarness(browser.context, platform.urls.https);
    const counts = countRequests(page, platform.urls.https);
    await startPlayers(page, viewer.tiles);
    pages.push({ viewer, page, counts });
  }
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  // Latency samples from the warm-up are dropped below (by count at the window's start).
  const skip = await Promise.all(
    pages.map(async ({ page }) => (await readReports(page)).map((r) => r.latenciesMs.length)),
  );
  for (const p of pages) p.counts.counting = true;
  const startedAt = Date.now();
  const endAt = startedAt + minutes * 60_000;
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, Math.min(30_000, endAt - Date.now())));
    const s = (Date.now() - startedAt) / 1000;
    console.log(
      pages
        .map(
          ({ viewer, counts }) =>
            `${viewer.name} ${((counts.playlist + counts.media + counts.other) / s).toFixed(1)} req/s`,
        )
        .join(' | '),
    );
  }
  const seconds = (Date.now() - startedAt) / 1000;
  const viewers = [];
  for (const [v, { viewer, page, counts }] of pages.entries()) {
    const reports = await readReports(page);
    const tiles = reports.map((r, i) => {
      const samples = r.latenciesMs.slice(skip[v]?.[i] ?? 0);
      return {
        player: r.name,
        samples: samples.length,
        p50_ms: percentile(samples, 50),
        p95_ms: percentile(samples, 95),
        stalls: r.stalls,
        fatal_errors: r.fatalErrors,
        part_target_s: r.partTargetS,
      };
    });
    const requests = counts.playlist + counts.media + counts.other;
    viewers.push({
      viewer: viewer.name,
      profile: viewer.profile,
      targets_ms: PROFILE_TARGETS[viewer.profile],
      tiles: tiles.length,
      requests_per_viewer_s: +(requests / seconds).toFixed(2),
      playlist_requests_per_s: +(counts.playlist / seconds).toFixed(2),
      media_requests_per_s: +(counts.media / seconds).toFixed(2),
      players: tiles,
    });
  }
  await browser.close();
  const result = {
    date: new Date().toISOString(),
    minutes,
    warmup_s: warmupS,
    viewers,
    load_average: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  console.log(JSON.stringify(result, null, 2));
  for (const v of viewers) {
    const first = v.players[0];
    console.log(
      `${v.viewer}: ${v.requests_per_viewer_s} req/viewer-s; ${first?.player} p50 ${first?.p50_ms} ms p95 ${first?.p95_ms} ms`,
    );
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', `latency-profiles-${Date.now()}.json`),
    JSON.stringify(result, null, 2),
  );
} finally {
  await Promise.all(feeds.map((f) => f.stop()));
  redis.disconnect();
  await platform.stop();
}
