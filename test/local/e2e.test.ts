import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hlsConfigWithTarget,
  openHarness,
  percentile,
  readReports,
  startPlayers,
} from '../../bench/latency-harness.js';
import { type Platform, startPlatform } from '../../local/platform.js';
import { launchChromium } from '../support/browser.js';

/** Seconds of playback required by the issue. */
const PLAY_S = 30;

let platform: Platform;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mirror-e2e-'));
  platform = await startPlatform({
    streams: 2,
    ladder: 'tile',
    gpu: 'off',
    httpsPort: 0,
    httpPort: 0,
    srtPort: 0,
    redisPort: 0,
    dataDir,
    feed: (process.env.MIRROR_E2E_FEED as 'srt' | 'direct' | undefined) ?? 'srt',
  });
}, 90_000);

afterAll(async () => {
  const pids = platform?.pids() ?? [];
  await platform?.stop();
  for (const pid of pids) {
    expect(() => process.kill(pid, 0), `pid ${pid} still alive`).toThrow();
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('the embedded default, end to end', () => {
  it(
    'plays two synthetic streams in hls.js over the HTTP/2 edge for 30 s with low latency',
    async () => {
      // Wait until both streams are live (first encoder connect, first transcoded parts).
      const deadline = Date.now() + 40_000;
      for (const stream of platform.streams) {
        for (;;) {
          const r = await fetch(`${platform.urls.http}/${stream.id}/master.m3u8`);
          if (r.status === 200) break;
          expect(Date.now(), `${stream.id} did not go live`).toBeLessThan(deadline);
          await new Promise((res) => setTimeout(res, 500));
        }
      }
      const browser = await launchChromium();
      try {
        const page = await openHarness(browser.context, platform.urls.https);
        const protocol = await page.evaluate(async () => {
          const r = await fetch('/cam-1/master.m3u8');
          await r.text();
          const entry = performance.getEntriesByType('resource').at(-1) as
            | PerformanceResourceTiming
            | undefined;
          return entry?.nextHopProtocol;
        });
        expect(protocol).toBe('h2');
        // Target PART-HOLD-BACK plus a little slack; a player that falls more than 1.2 s behind it re-syncs.
        await startPlayers(
          page,
          platform.streams.map((s) => ({ name: s.id, url: `/${s.id}/master.m3u8` })),
          250,
          hlsConfigWithTarget(0.5),
        );
        // Measure 30 s of playback from the moment both players play (start-up is slow on a loaded machine).
        const startBy = Date.now() + 30_000;
        let started = await readReports(page);
        while (started.some((r) => r.startupMs === null) && Date.now() < startBy) {
          await page.waitForTimeout(250);
          started = await readReports(page);
        }
        expect(started.map((r) => r.startupMs === null)).toEqual([false, false]);
        await page.waitForTimeout(PLAY_S * 1000);
        const reports = await readReports(page);
        const playedS = (name: string) =>
          (reports.find((r) => r.name === name)?.currentTimeEnd ?? 0) -
          (started.find((r) => r.name === name)?.currentTimeEnd ?? 0);
        const summary = reports.map((r) => ({
          stream: r.name,
          played_s: +playedS(r.name).toFixed(1),
          pdt_p50_ms: percentile(r.latenciesMs, 50),
          pdt_p95_ms: percentile(r.latenciesMs, 95),
          hls_latency_s: r.hlsLatencyS,
          stalls: r.stalls,
          startup_ms: r.startupMs,
          part_target_s: r.partTargetS,
          fatal: r.fatalErrors,
        }));
        // The figures the issue asks to report.
        const statuses = await platform.status();
        console.log(
          `e2e ingest-to-display latency:\n${JSON.stringify(summary, null, 2)}\nlive edge per PROGRAM-DATE-TIME, now minus newest part end (ms): ${statuses.map((s) => `${s.id} ${s.latencyMs}`).join(', ')}`,
        );
        expect(reports).toHaveLength(2);
        for (const report of reports) {
          expect(report.fatalErrors, report.name).toEqual([]);
          expect(report.currentTimeEnd - report.currentTimeStart, report.name).toBeGreaterThanOrEqual(
            PLAY_S - 2,
          );
          expect(report.partTargetS, `${report.name} plays LL-HLS parts`).toBeGreaterThan(0);
          const p50 = percentile(report.latenciesMs, 50);
          expect(p50, report.name).not.toBeNull();
          expect(p50 as number, `${report.name} median latency from PROGRAM-DATE-TIME`).toBeLessThan(3000);
          // PROGRAM-DATE-TIME alone can read low (see docs/local.md); the distance behind the live edge cannot.
          expect(report.hlsLatencyS, `${report.name} distance behind the live edge`).not.toBeNull();
          expect(report.hlsLatencyS as number).toBeLessThan(3);
        }
        const edge = platform.edge.stats;
        expect(edge.requests.playlist).toBeGreaterThan(0);
        expect(edge.requests.media).toBeGreaterThan(0);
      } finally {
        await browser.close();
      }
    },
    (PLAY_S + 120) * 1000,
  );
});
