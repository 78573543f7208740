// Ingest-to-display latency and stalls: Mirror's LL-HLS next to the same synthetic source packaged by
// ffmpeg's own HLS muxer (regular HLS, 1 s segments), both played by hls.js in one headless Chromium, and beside
// them, through the same edge, the players integrators use as they come (bench/stock-players.ts): stock hls.js
// (`lowLatencyMode` only), stock Shaka (`streaming.lowLatencyMode` only) and Mirror's `<mirror-player>` embed.
// Usage: node --import tsx bench/latency.ts [--minutes 10] [--feed srt|direct] [--mirror-target 0.6]
//   [--stock hlsjs,shaka,mirror | none]
// (Per latency profile, with requests per viewer-second: bench/latency-profiles.ts.)

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import { softwareAudioArgs, softwareVideoArgs } from '../containers/ingest/src/transcode/ffmpeg-args.js';
import { PART_HOLD_BACK_PARTS } from '../core/hls/constants.js';
import { TILE_RUNG } from '../core/ladder.js';
import { DEFAULT_CLIP, realTimeClipInput } from '../local/encoders/args.js';
import { availableFont, ensureClip } from '../local/encoders/clip.js';
import { PART_TARGET_MS, ROOT, SEGMENT_TARGET_MS } from '../local/platform.js';
import { launchChromium } from '../test/support/browser.js';
import { LIVE_TARGET_SLACK_S } from '../web/src/live-catchup.js';
import { answersOk, feedOf, startBenchPlatform, waitUntil } from './bench-platform.js';
import {
  hlsConfigWithTarget,
  openHarness,
  type PlayerReport,
  percentile,
  readReports,
  startPlayers,
} from './latency-harness.js';
import {
  addStockPlayers,
  readStockReports,
  STOCK_PLAYERS,
  type StockPlayer,
  summarizeStock,
} from './stock-players.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    feed: { type: 'string', default: 'srt' },
    // Stock hls.js and Shaka by default: with the harness player and the reference that is four decoders, what 2 cores
    // hold without the players' own start-up and decode times weighing on the figures; `mirror` adds the embed.
    stock: { type: 'string', default: 'hlsjs,shaka' },
    // The default stream profile's PART-HOLD-BACK plus the viewer's slack, as the viewer aims.
    'mirror-target': {
      type: 'string',
      default: String(+((PART_HOLD_BACK_PARTS * PART_TARGET_MS) / 1000 + LIVE_TARGET_SLACK_S).toFixed(3)),
    },
  },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('--minutes must be a positive number');
const feed = feedOf(values.feed);
const stock = values.stock === 'none' ? [] : (values.stock.split(',') as StockPlayer[]);
const unknown = stock.filter((p) => !(STOCK_PLAYERS as readonly string[]).includes(p));
if (unknown.length > 0) throw new Error(`--stock: unknown players ${unknown.join(', ')}`);

/** The reference: regular HLS with 1 s segments (GOP 1 s), fMP4, PROGRAM-DATE-TIME from ffmpeg's wall clock. */
const REFERENCE_SEGMENT_S = 1;
/** Player targets: Mirror at PART-HOLD-BACK + LIVE_TARGET_SLACK_S, as the viewer; the reference at hls.js's 3 segments. */
const MIRROR_TARGET_S = Number(values['mirror-target']);
const REFERENCE_TARGET_S = 3 * REFERENCE_SEGMENT_S;

function referenceArgs(clip: string, outDir: string): string[] {
  return [
    ...realTimeClipInput(clip),
    // The same libx264/AAC encode as Mirror's software path, with 1 s GOPs: only the packaging differs.
    ...softwareVideoArgs(TILE_RUNG, REFERENCE_SEGMENT_S * 1000),
    ...softwareAudioArgs(TILE_RUNG),
    '-f',
    'hls',
    '-hls_time',
    String(REFERENCE_SEGMENT_S),
    '-hls_list_size',
    '6',
    '-hls_segment_type',
    'fmp4',
    '-hls_flags',
    'delete_segments+program_date_time+independent_segments+temp_file',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    join(outDir, 'seg-%d.m4s'),
    join(outDir, 'index.m3u8'),
  ];
}

function summarize(report: PlayerReport) {
  return {
    player: report.name,
    samples: report.latenciesMs.length,
    p50_ms: percentile(report.latenciesMs, 50),
    p95_ms: percentile(report.latenciesMs, 95),
    stalls: report.stalls,
    dropped_frames: report.droppedFrames,
    behind_edge_p50_ms: percentile(report.behindEdgeMs, 50),
    behind_edge_p95_ms: percentile(report.behindEdgeMs, 95),
    startup_ms: report.startupMs,
    played_s: +(report.currentTimeEnd - report.currentTimeStart).toFixed(1),
    fatal_errors: report.fatalErrors,
    // hls.js's non-fatal ERROR events by details (bufferStalledError, bufferSeekOverHole, bufferNudgeOnStall, ...).
    non_fatal_errors: report.nonFatalErrors,
    part_target_s: report.partTargetS,
  };
}

const PLAYER_LABELS: Record<string, string> = {
  'mirror-llhls': "Mirror's harness player (the viewer's settings)",
  'ffmpeg-hls': "ffmpeg's own HLS muxer (reference, 1 s segments)",
  hlsjs: 'stock hls.js (`lowLatencyMode` only)',
  shaka: 'stock Shaka (`streaming.lowLatencyMode` only)',
  mirror: '`<mirror-player>` embed',
};

/** The table issue 13 asks for (markdown): PDT latency p50/p95, behind-edge p50, stalls, dropped frames per player. */
function resultTable(
  players: ReturnType<typeof summarize>[],
  stockPlayers: ReturnType<typeof summarizeStock>[],
  runMinutes: number,
): string {
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v).toLocaleString('en-US')}`);
  const rows = [
    ...players.map((r) => ({ ...r, requests: '—', stallsPerMin: +(r.stalls / runMinutes).toFixed(2) })),
    ...stockPlayers.map((r) => ({
      ...r,
      requests: `${r.playlist_req_s ?? '—'} / ${r.media_req_s ?? '—'}`,
      stallsPerMin: r.stalls_per_min,
    })),
  ];
  return [
    '| player | PDT latency p50 / p95 (ms) | behind the edge, p50 (ms) | stalls (per min) | dropped frames | requests/s (playlist / media) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${PLAYER_LABELS[r.player] ?? r.player} | ${ms(r.p50_ms)} / ${ms(r.p95_ms)} | ${ms(r.behind_edge_p50_ms)} | ` +
        `${r.stalls} (${r.stallsPerMin ?? '—'}) | ${r.dropped_frames} | ${r.requests} |`,
    ),
  ].join('\n');
}

const dataDir = join(ROOT, '.mirror', 'bench-latency');
rmSync(dataDir, { recursive: true, force: true });
const platform = await startBenchPlatform(dataDir, feed);
const refDir = join(dataDir, 'reference');
mkdirSync(refDir, { recursive: true });
const clip = await ensureClip(join(dataDir, 'clips'), {
  ...DEFAULT_CLIP,
  label: 'cam-1',
  toneHz: 440,
  fontFile: availableFont(),
});
const reference: ChildProcess = spawn('ffmpeg', referenceArgs(clip, refDir), { stdio: 'ignore' });
const stop = async () => {
  reference.kill('SIGTERM');
  await platform.stop();
};

try {
  const master = `${platform.urls.http}/cam-1/master.m3u8`;
  await waitUntil(`${master} never went live`, () => answersOk(master));
  await waitUntil('the ffmpeg HLS reference never wrote its playlist', () =>
    existsSync(join(refDir, 'index.m3u8')),
  );
  await new Promise((r) => setTimeout(r, 3000));
  const browser = await launchChromium();
  const page = await openHarness(browser.context, platform.urls.https);
  // The reference is served on the page's own origin (answered from its directory by the browser driver),
  // so both players share the origin and neither needs CORS or a second certificate.
  await page.route(`${platform.urls.https}/__ref/**`, async (route) => {
    const name = new URL(route.request().url()).pathname.slice('/__ref/'.length);
    const file = normalize(join(refDir, name));
    if (!file.startsWith(refDir) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    const playlist = extname(file) === '.m3u8';
    await route.fulfill({
      status: 200,
      headers: {
        'content-type': playlist ? 'application/vnd.apple.mpegurl' : 'video/iso.segment',
        'cache-control': playlist ? 'no-cache' : 'max-age=60',
      },
      body: readFileSync(file),
    });
  });
  await startPlayers(page, [
    { name: 'mirror-llhls', url: '/cam-1/master.m3u8', hlsConfig: hlsConfigWithTarget(MIRROR_TARGET_S) },
    {
      name: 'ffmpeg-hls',
      url: '/__ref/index.m3u8',
      hlsConfig: hlsConfigWithTarget(REFERENCE_TARGET_S),
    },
  ]);
  if (stock.length > 0) await addStockPlayers(page, platform.urls.https, '/cam-1/master.m3u8', stock);
  const skews: number[] = [];
  const endAt = Date.now() + minutes * 60_000;
  while (Date.now() < endAt) {
    await page.waitForTimeout(Math.min(30_000, endAt - Date.now()));
    const [status] = await platform.status();
    if (status?.latencyMs !== undefined) skews.push(status.latencyMs);
    const interim = [
      ...(await readReports(page)).map(summarize),
      ...(await readStockReports(page, stock)).map(summarizeStock),
    ];
    console.log(
      `${new Date().toISOString().slice(11, 19)} ${interim.map((r) => `${r.player} p50 ${r.p50_ms} ms p95 ${r.p95_ms} ms stalls ${r.stalls} behind-edge p50 ${r.behind_edge_p50_ms} ms`).join(' | ')}`,
    );
  }
  const reports = (await readReports(page)).map(summarize);
  const stockReports = (await readStockReports(page, stock)).map(summarizeStock);
  await browser.close();
  const [mirror, ref] = reports;
  const result = {
    date: new Date().toISOString(),
    minutes,
    feed,
    mirror_config: {
      part_target_ms: PART_TARGET_MS,
      segment_target_ms: SEGMENT_TARGET_MS,
      part_hold_back_s: +((PART_HOLD_BACK_PARTS * PART_TARGET_MS) / 1000).toFixed(3),
      player_target_s: MIRROR_TARGET_S,
    },
    reference_config: {
      segment_s: REFERENCE_SEGMENT_S,
      player_target_s: REFERENCE_TARGET_S,
      muxer: 'ffmpeg hls, fmp4, program_date_time',
    },
    players: reports,
    // Through the same edge, as integrators configure them: requests per second are each player's own (its frame's
    // resource timeline), playlists and media apart.
    stock_players: stockReports,
    ratio_p50: mirror?.p50_ms && ref?.p50_ms ? +(mirror.p50_ms / ref.p50_ms).toFixed(2) : null,
    ratio_p95: mirror?.p95_ms && ref?.p95_ms ? +(mirror.p95_ms / ref.p95_ms).toFixed(2) : null,
    ratio_behind_edge_p50:
      mirror?.behind_edge_p50_ms && ref?.behind_edge_p50_ms
        ? +(mirror.behind_edge_p50_ms / ref.behind_edge_p50_ms).toFixed(2)
        : null,
    mirror_live_edge_pdt_minus_now_ms_p50: percentile(
      skews.map((s) => -s),
      50,
    ),
    load_average: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`\n${resultTable(reports, stockReports, minutes)}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', `latency-${Date.now()}.json`),
    JSON.stringify(result, null, 2),
  );
} finally {
  await stop();
}
