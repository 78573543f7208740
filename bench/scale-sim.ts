// Request collapsing at scale: N simulated LL-HLS clients (blocking playlist requests plus part fetches,
// no decoding) against the local edge, for N = 10, 100, 1000. Prints the origin (manifest app) playlist
// request rate and client-side response times per N; with collapsing the origin rate stays flat.
// Usage: node --import tsx bench/scale-sim.ts [--clients 10,100,1000] [--seconds 20] [--feed srt|direct]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PART_TARGET_MS, ROOT, SEGMENT_TARGET_MS } from '../local/platform.js';
import { answersOk, feedOf, startBenchPlatform, waitUntil } from './bench-platform.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10,100,1000' },
    seconds: { type: 'string', default: '20' },
    feed: { type: 'string', default: 'srt' },
  },
});
const steps = values.clients.split(',').map(Number);
const seconds = Number(values.seconds);
const feed = feedOf(values.feed);

const platform = await startBenchPlatform(join(ROOT, '.mirror', 'bench-scale'), feed);
const playlistPath = '/cam-1/360p/playlist.m3u8';
try {
  await waitUntil('the synthetic stream never went live', () =>
    answersOk(`${platform.urls.http}${playlistPath}`),
  );
  console.log(
    `LL-HLS config: parts ${PART_TARGET_MS} ms, segments ${SEGMENT_TARGET_MS} ms; feed ${feed}; ${seconds} s per step; clients in a separate process over HTTP/1.1 keep-alive`,
  );
  const rows = [];
  for (const clients of steps) {
    const before = platform.edge.stats;
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'bench', 'scale-client.ts'),
        platform.urls.http,
        playlistPath,
        String(clients),
        String(seconds),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const elapsedS = (Date.now() - started) / 1000;
    const after = platform.edge.stats;
    const client = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    const row = {
      clients,
      viewer_playlist_req_s: +((after.requests.playlist - before.requests.playlist) / elapsedS).toFixed(1),
      origin_playlist_req_s: +((after.origin.playlist - before.origin.playlist) / elapsedS).toFixed(1),
      // Every part reaches the manifest function (the part store, D33); held or not.
      origin_manifest_part_req_s: +((after.origin.parts - before.origin.parts) / elapsedS).toFixed(1),
      viewer_part_req_s: +((after.requests.media - before.requests.media) / elapsedS).toFixed(1),
      storage_part_req_s: +((after.origin.media - before.origin.media) / elapsedS).toFixed(1),
      collapsed: after.cache.collapsed - before.cache.collapsed,
      playlist_p50_ms: client.playlistP50Ms,
      playlist_p99_ms: client.playlistP99Ms,
      part_p50_ms: client.partP50Ms,
      part_p99_ms: client.partP99Ms,
      client_errors: client.errors,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.table(
    rows.map((r) => ({
      clients: r.clients,
      'viewer playlist req/s': r.viewer_playlist_req_s,
      'origin playlist req/s': r.origin_playlist_req_s,
      'p99 playlist ms': r.playlist_p99_ms,
      'p99 part ms': r.part_p99_ms,
    })),
  );
} finally {
  await platform.stop();
}
