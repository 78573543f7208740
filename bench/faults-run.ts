/**
 * The fault suite's run: the local platform on S3 (s3rver), one stream fed by a real encoder (ffmpeg over SRT), one
 * hls.js player in Chromium through the edge, and the faults one after another, each measured over its own window.
 * `npm run faults` (bench/faults.ts) runs them all; test/local/faults.test.ts a short version.
 */

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { srtUrls } from '../core/adapters/streams/registry.js';
import { isDvrPlaylistKey, isThumbnailKey } from '../core/contracts/names.js';
import type { LadderPreset } from '../core/ladder.js';
import type { StreamCredentials } from '../core/streams/schema.js';
import { DEFAULT_CLIP } from '../local/encoders/args.js';
import { availableFont, ensureClip } from '../local/encoders/clip.js';
import { EPHEMERAL_PORTS, type Platform, startPlatform } from '../local/platform.js';
import { launchChromium } from '../test/support/browser.js';
import { waitUntil } from './bench-platform.js';
import {
  EncoderRig,
  FAULTS,
  type FaultName,
  type FaultWindow,
  LossLink,
  lossLinkUnavailable,
  type Rig,
} from './faults-inject.js';
import {
  advances,
  edgeMoved,
  type FaultRow,
  findFreezes,
  longestFreezeMs,
  PutLedger,
  progressingSince,
  recoveredAtMs,
  timeMoved,
  UriLedger,
} from './faults-model.js';
import { findMissing, PlayerMonitor, PlaylistWatcher } from './faults-observe.js';
import { HLS_CONFIG, openHarness, startPlayers } from './latency-harness.js';

export interface SuiteOptions {
  readonly faults: readonly FaultName[];
  /** How long redis-server and s3rver stay down (s). */
  readonly outageS: number;
  /** At most this long after a fault's end (s) a row waits for steady playback: recovery must happen within it. */
  readonly settleS: number;
  readonly lossS: number;
  readonly lossPercent: number;
  /**
   * The suite stream's ladder (`tile` by default, as `npm start`): the H.264 clip is transcoded, so the restart at
   * another resolution reaches the player as the same rung. (`passthrough` would carry the new resolution through, but
   * its AAC copy from MPEG-TS yields CODECS "mp4a.40", which hls.js refuses: see docs/operations.md.)
   */
  readonly ladder: LadderPreset;
  readonly liveTtlS: number;
  readonly dataDir: string;
  readonly log: (line: string) => void;
}

/** What a row measured beyond the table: examples and counters to explain a number. */
export interface RowDetail {
  readonly fault: FaultName;
  readonly window?: FaultWindow;
  readonly fatalErrors?: string[];
  /** hls.js's reasons for the row's fatal errors (a parsing error's message, a load error's HTTP status). */
  readonly fatalReasons?: string[];
  /** Fatal errors while the stream was down on purpose (the TTL fault): not counted in the table. */
  readonly fatalWhileOffline?: string[];
  readonly playerReloads?: number;
  readonly playerResyncs?: number;
  /** The player had played to an EXT-X-ENDLIST by the row's end (it will not pick the stream up again by itself). */
  readonly playerEnded?: boolean;
  /** hls.js's non-fatal errors during the row, by `type:details`. */
  readonly nonFatalErrors?: Record<string, number>;
  readonly missingAtEdge?: string[];
  readonly missingInStorage?: string[];
  readonly reusedExamples?: string[];
  /** Reused keys whose bytes changed (stale content under an immutable name). */
  readonly reusedChanged?: number;
  readonly advertised?: number;
  readonly playlistRecoveryS?: number | null;
  readonly playerRecoveryS?: number | null;
  /** Whether playback was steady when the row began (false: the previous fault's tail may show in this row). */
  readonly steadyBefore?: boolean;
  readonly error?: string;
}

export interface SuiteResult {
  readonly rows: FaultRow[];
  readonly details: RowDetail[];
  /** Every URI listed during the run, fetched once more at the end. */
  readonly final: { advertised: number; missingAtEdge: number; missingInStorage: number; reusedKeys: number };
}

/** A second or more without progress is a freeze (a blocking reload answers every part, 0.1 s, when live). */
const FREEZE_MS = 1000;
/** Watched before each fault, so a freeze that starts with it is seen whole. */
const BASELINE_MS = 2000;
/** Moving this long without a freeze is steady: playback before a fault, and recovered after it. */
const STEADY_MS = 3000;
const STREAM_ID = 'faults';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFaultSuite(options: SuiteOptions): Promise<SuiteResult> {
  const linkProblem = options.faults.includes('srt-loss') ? lossLinkUnavailable() : 'not needed';
  const link = linkProblem === undefined ? LossLink.setUp() : undefined;
  let platform: Platform | undefined;
  const stops: (() => Promise<unknown> | unknown)[] = [];
  try {
    platform = await startPlatform({
      ...EPHEMERAL_PORTS,
      streams: 0,
      ladder: options.ladder,
      gpu: 'off',
      dataDir: options.dataDir,
      storage: 's3',
      liveTtlS: options.liveTtlS,
      ingestLog: 'file',
    });
    const { record, credentials } = await platform.registry.create({
      id: STREAM_ID,
      name: 'Fault suite',
      ladder: options.ladder,
      latency: 'low',
      encrypted: true,
      keyLength: 16,
    });
    const srtUrl = srtUrls(
      { ...record, ...(credentials as StreamCredentials) },
      { host: link?.host ?? '127.0.0.1', port: platform.ports.srt },
    ).url;
    const clipsDir = join(options.dataDir, 'clips');
    const clip = (width: number, height: number) =>
      ensureClip(clipsDir, {
        ...DEFAULT_CLIP,
        width,
        height,
        codec: 'h264',
        label: `${STREAM_ID} ${height}p`,
        toneHz: 440,
        fontFile: availableFont(),
      });
    const firstClip = await clip(640, 360);
    // Only the TTL fault comes back at another resolution (the clip is made once, then cached in dataDir).
    const otherClip = options.faults.includes('ttl-restart') ? await clip(1280, 720) : firstClip;

    let row = 0;
    const uris = new UriLedger();
    const puts = new PutLedger();
    // Thumbnails (D41) and DVR playlists (D43) are rewritten in place by design, served with a short max-age and
    // never as immutable: every other name is written once.
    platform.s3?.onPut(({ key, etag }) => {
      if (!isThumbnailKey(key) && !isDvrPlaylistKey(key)) puts.record(key, etag, row);
    });
    const encoder = new EncoderRig(srtUrl, link?.commandPrefix ?? []);
    stops.push(() => encoder.stop());
    encoder.start(firstClip);
    const masterUrl = `${platform.urls.http}/${STREAM_ID}/master.m3u8`;
    await waitUntil(
      'the stream never went live',
      async () => (await fetch(masterUrl)).status === 200,
      40_000,
    );

    const watcher = new PlaylistWatcher(masterUrl, uris, () => row);
    watcher.start();
    stops.push(() => watcher.stop());
    const browser = await launchChromium();
    stops.push(() => browser.close());
    const page = await openHarness(browser.context, platform.urls.https);
    const target = { name: STREAM_ID, url: `/${STREAM_ID}/master.m3u8` };
    // MIRROR_FAULTS_HLS_LOG=<file>: hls.js's debug log, each line after the epoch ms modulo 10^6 (how the player got
    // stuck after a fresh timeline was found this way: docs/operations.md, Fault suite).
    const hlsLog = process.env.MIRROR_FAULTS_HLS_LOG;
    if (hlsLog) page.on('console', (m) => appendFileSync(hlsLog, `${Date.now() % 1_000_000} ${m.text()}\n`));
    await startPlayers(page, [target], 250, hlsLog ? { ...HLS_CONFIG, debug: true } : HLS_CONFIG);
    const player = await PlayerMonitor.start(page, target, uris, () => row);
    const poller = setInterval(() => void player.poll().catch(() => undefined), 1000);
    stops.push(() => clearInterval(poller));
    await waitUntil(
      'the player never played',
      async () => {
        await player.poll();
        return advances(player.samples, timeMoved).length > 20;
      },
      30_000,
    );
    options.log(`playing; faults: ${options.faults.join(', ')}`);

    const rig: Rig = {
      platform,
      encoder,
      player,
      link,
      masterUrl,
      otherClip,
      outageS: options.outageS,
      lossS: options.lossS,
      lossPercent: options.lossPercent,
      liveTtlS: options.liveTtlS,
    };
    const rows: FaultRow[] = [];
    const details: RowDetail[] = [];
    for (const [index, name] of options.faults.entries()) {
      row = index + 1;
      const measured = await runRow(rig, name, {
        row,
        // From the row's end on, what is seen is the next row's (while this one's URIs are checked).
        endRow: () => {
          row = index + 2;
        },
        watcher,
        uris,
        puts,
        settleS: options.settleS,
        linkProblem,
      });
      rows.push(measured.row);
      details.push(measured.detail);
      options.log(JSON.stringify({ ...measured.row, note: measured.detail.window?.note }));
    }
    const everything = uris.firstSeenIn();
    const final = await findMissing(everything, platform.urls.http, platform.storage);
    return {
      rows,
      details,
      final: {
        advertised: everything.length,
        missingAtEdge: final.edge.length,
        missingInStorage: final.storage.length,
        reusedKeys: puts.reusedIn().keys,
      },
    };
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    await platform?.stop();
    link?.tearDown();
  }
}

interface RowContext {
  readonly row: number;
  readonly endRow: () => void;
  readonly watcher: PlaylistWatcher;
  readonly uris: UriLedger;
  readonly puts: PutLedger;
  readonly settleS: number;
  readonly linkProblem: string | undefined;
}

/** Where the player and the playlists stand at `nowMs`: since when each has been moving (undefined: frozen). */
async function progress(rig: Rig, watcher: PlaylistWatcher, nowMs: number) {
  await rig.player.poll();
  const player = progressingSince(advances(rig.player.samples, timeMoved), nowMs, FREEZE_MS);
  // Every rendition must move: the latest start among them (undefined if one is frozen).
  let playlist: number | undefined = Number.NEGATIVE_INFINITY;
  for (const series of watcher.edges.values()) {
    const since = progressingSince(advances(series, edgeMoved), nowMs, FREEZE_MS);
    playlist = since === undefined || playlist === undefined ? undefined : Math.max(since, playlist);
  }
  return { player, playlist: playlist === Number.NEGATIVE_INFINITY ? undefined : playlist };
}

/** Waits until the player and the playlists have moved steadily for STEADY_MS, or `timeoutMs` passed. */
async function awaitSteady(rig: Rig, watcher: PlaylistWatcher, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = Date.now();
    const { player, playlist } = await progress(rig, watcher, now);
    if (player !== undefined && playlist !== undefined && now - Math.max(player, playlist) >= STEADY_MS)
      return true;
    if (now > deadline) return false;
    await sleep(250);
  }
}

/**
 * One fault: wait for steady playback, a baseline, the injection, then until playback is steady again (at most
 * settleS after the fault's end); the figures are taken over that window.
 */
async function runRow(
  rig: Rig,
  name: FaultName,
  context: RowContext,
): Promise<{ row: FaultRow; detail: RowDetail }> {
  const spec = FAULTS[name];
  const fault = spec.label(rig);
  const skipped = spec.unavailable?.(rig) ?? (name === 'srt-loss' ? context.linkProblem : undefined);
  if (skipped !== undefined) return { row: { fault, skipped }, detail: { fault: name } };
  // A row starts from steady playback, so it does not inherit the previous fault's tail.
  const steadyBefore = await awaitSteady(rig, context.watcher, 30_000);
  const before = await rig.player.totals();
  const rowStart = Date.now();
  await sleep(BASELINE_MS);
  let window: FaultWindow;
  try {
    window = await spec.inject(rig);
  } catch (error) {
    return {
      row: { fault, failed: String(error) },
      detail: { fault: name, error: String(error) },
    };
  }
  await sleep(STEADY_MS);
  const settled = await awaitSteady(rig, context.watcher, window.endMs + context.settleS * 1000 - Date.now());
  // Moving again but not yet for STEADY_MS when the time is up: give it that long rather than call it lost.
  if (!settled && (await progress(rig, context.watcher, Date.now())).player !== undefined)
    await awaitSteady(rig, context.watcher, STEADY_MS);
  const rowEnd = Date.now();
  context.endRow();
  const now = await progress(rig, context.watcher, rowEnd);
  const totals = await rig.player.totals();

  const inRow = (s: { atMs: number }) => s.atMs >= rowStart - 1000 && s.atMs <= rowEnd;
  const playerAdvances = advances(rig.player.samples.filter(inRow), timeMoved);
  const playerGapMs = longestFreezeMs(findFreezes(playerAdvances, rowStart, rowEnd, 0));
  const playerRecovered = recoveredAtMs(now.player, window, rowEnd, STEADY_MS);
  const playlistRecovered = recoveredAtMs(now.playlist, window, rowEnd, STEADY_MS);
  const recoveryS = (at: number | undefined) => (at === undefined ? null : round((at - window.endMs) / 1000));
  const recovery =
    playerRecovered === undefined || playlistRecovered === undefined
      ? null
      : recoveryS(Math.max(playerRecovered, playlistRecovered));

  // Fatal errors are timestamped by the page's sampler; those while the stream was down on purpose do not count.
  const fatal = totals.fatalErrors.slice(before.fatalErrors.length);
  const fatalTimes = totals.fatalTimes.slice(before.fatalErrors.length);
  const offline = window.offline;
  const isCounted = (i: number) => offline === undefined || !inside(fatalTimes[i], offline);
  const counted = fatal.filter((_, i) => isCounted(i));
  const paths = context.uris.firstSeenIn(context.row);
  const missing = await findMissing(paths, rig.platform.urls.http, rig.platform.storage);
  const reuse = context.puts.reusedIn(context.row);
  return {
    row: {
      fault,
      playerGapS: round(playerGapMs / 1000),
      stalls: totals.stalls - before.stalls,
      fatalErrors: counted.length,
      missing: new Set([...missing.edge, ...missing.storage]).size,
      reusedKeys: reuse.keys,
      recoveryS: recovery,
    },
    detail: {
      fault: name,
      window,
      fatalErrors: counted,
      fatalWhileOffline: fatal.filter((_, i) => !isCounted(i)),
      fatalReasons: totals.fatalReasons.slice(before.fatalReasons.length),
      playerReloads: totals.reloads - before.reloads,
      playerResyncs: totals.resyncs - before.resyncs,
      playerEnded: totals.ended,
      nonFatalErrors: Object.fromEntries(
        Object.entries(totals.nonFatalErrors)
          .map(([key, n]) => [key, n - (before.nonFatalErrors[key] ?? 0)] as const)
          .filter(([, n]) => n > 0),
      ),
      missingAtEdge: missing.edge.slice(0, 5),
      missingInStorage: missing.storage.slice(0, 5),
      reusedExamples: reuse.examples,
      reusedChanged: reuse.changed,
      advertised: paths.length,
      playlistRecoveryS: recoveryS(playlistRecovered),
      steadyBefore,
      playerRecoveryS: recoveryS(playerRecovered),
    },
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
const inside = (at: number | undefined, span: { fromMs: number; toMs: number }) =>
  at !== undefined && at >= span.fromMs && at <= span.toMs;
