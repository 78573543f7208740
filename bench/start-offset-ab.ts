// What an EXT-X-START tag would do to stock players, measured A/B in one page under one load (issue 13, D35):
// each stock player plays twice through the edge, and the second copy's media playlists (frame `<player>-b`) get
// `#EXT-X-START:TIME-OFFSET=<offset>` added on their way to the browser. The server is unchanged: this measures a
// playlist lever before anyone ships it, with both copies sharing the machine's load at the same moment (absolute
// figures on a shared machine drift from run to run; the difference between the copies is what to read).
// Usage: node --import tsx bench/start-offset-ab.ts --offset 3600 [--seconds 60] [--players hlsjs,shaka]

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../local/platform.js';
import { launchChromium } from '../test/support/browser.js';
import { answersOk, startBenchPlatform, waitUntil } from './bench-platform.js';
import { openHarness } from './latency-harness.js';
import {
  addStockPlayers,
  readStockReports,
  STOCK_PLAYERS,
  type StockFrame,
  type StockPlayer,
  summarizeStock,
} from './stock-players.js';

const { values } = parseArgs({
  options: {
    offset: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    players: { type: 'string', default: 'hlsjs,shaka' },
  },
});
const offset = Number(values.offset);
if (values.offset === undefined || !Number.isFinite(offset)) throw new Error('--offset: a number of seconds');
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
const players = values.players.split(',') as StockPlayer[];
const unknown = players.filter((p) => !(STOCK_PLAYERS as readonly string[]).includes(p));
if (unknown.length > 0) throw new Error(`--players: unknown players ${unknown.join(', ')}`);
const frames: StockFrame[] = players.flatMap((p): StockFrame[] => [p, `${p}-b`]);

/** The B copy's media playlist: the tag goes before the first segment's tags, as RFC 8216bis 4.4.2.2 allows. */
function withStartOffset(playlist: string, offsetS: number): string {
  if (playlist.includes('#EXT-X-STREAM-INF')) return playlist; // multivariant: left as served
  return playlist.replace(
    '#EXT-X-TARGETDURATION',
    `#EXT-X-START:TIME-OFFSET=${offsetS}\n#EXT-X-TARGETDURATION`,
  );
}

/** Response headers that no longer describe the body once it is read as text and re-sent. */
const DROPPED_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection']);

const dataDir = join(ROOT, '.mirror', 'bench-start-offset');
rmSync(dataDir, { recursive: true, force: true });
const platform = await startBenchPlatform(dataDir, 'srt');
try {
  const master = `${platform.urls.http}/cam-1/master.m3u8`;
  await waitUntil(`${master} never went live`, () => answersOk(master));
  await new Promise((r) => setTimeout(r, 3000));
  const browser = await launchChromium();
  const page = await openHarness(browser.context, platform.urls.https);
  // Both copies' playlists take the same detour (fetched here over the edge's plain-HTTP port, so neither copy
  // gets the browser's HTTP/2 connection the other lacks); only the B copy's are rewritten.
  await page.route(
    (url) => url.pathname.endsWith('.m3u8'),
    async (route) => {
      const request = route.request();
      const response = await fetch(request.url().replace(platform.urls.https, platform.urls.http));
      const text = await response.text();
      const body = request.frame().name().endsWith('-b') ? withStartOffset(text, offset) : text;
      const headers = Object.fromEntries(
        [...response.headers].filter(([name]) => !DROPPED_HEADERS.has(name.toLowerCase())),
      );
      await route.fulfill({ status: response.status, headers, body });
    },
  );
  await addStockPlayers(page, platform.urls.https, '/cam-1/master.m3u8', frames);
  await page.waitForTimeout(seconds * 1000);
  const rows = (await readStockReports(page, frames)).map(summarizeStock);
  await browser.close();
  console.log(
    `EXT-X-START:TIME-OFFSET=${offset} on the -b copies, ${seconds} s, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  console.log(
    '| frame | PDT p50 / p95 (ms) | behind-edge p50 (ms) | stalls | dropped | startup (ms) | parts / segments |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const d = r.diagnostics as { parts?: number; segments?: number };
    console.log(
      `| ${r.player} | ${r.p50_ms} / ${r.p95_ms} | ${r.behind_edge_p50_ms} | ${r.stalls} | ${r.dropped_frames} | ` +
        `${r.startup_ms} | ${d.parts ?? 0} / ${d.segments ?? 0} |`,
    );
  }
  console.log(
    JSON.stringify(
      rows.map((r) => ({ player: r.player, diagnostics: r.diagnostics, errors: r.errors.slice(0, 3) })),
    ),
  );
} finally {
  await platform.stop();
}
