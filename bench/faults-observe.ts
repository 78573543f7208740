/**
 * What the fault suite watches, as a viewer and an auditor would: the media playlists polled at part rate through
 * the edge (blocking reloads), the hls.js player of bench/latency-harness.ts (currentTime sampled in the page, stalls,
 * fatal errors, reloaded 3 s after a fatal error as the viewer's tile does), and afterwards every advertised object
 * fetched through the edge and read from storage. The pure parts are in faults-model.ts.
 */
import type { Page } from 'playwright-core';
import type { MediaStorage } from '../core/storage/index.js';
import { type Observation, readMediaPlaylist, type UriLedger, variantPlaylists } from './faults-model.js';
import type { PlayerTarget } from './latency-harness.js';

/** Observations kept per series: hours of 10/s; a run is minutes. */
const MAX_OBSERVATIONS = 100_000;
/** A blocking reload is answered 503 after about 3 target durations: give it a little longer. */
const PLAYLIST_TIMEOUT_MS = 6000;
/** Pause after a failed playlist request before asking again without directives. */
const RETRY_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_OBSERVATIONS) list.splice(0, list.length - MAX_OBSERVATIONS);
}

/** URIs are compared by path: the player reaches the edge over HTTPS, the watcher over plain HTTP. */
const pathOf = (url: string) => new URL(url).pathname;

/**
 * Polls a stream's media playlists through the edge, each with blocking reloads for the next part, as an LL-HLS
 * player does; records when each playlist's newest part changes and adds every advertised URI to the ledger.
 */
export class PlaylistWatcher {
  /** Per media playlist URL: its newest part over time. */
  readonly edges = new Map<string, Observation<string | undefined>[]>();
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];

  constructor(
    private readonly masterUrl: string,
    private readonly ledger: UriLedger,
    private readonly row: () => number,
  ) {}

  start(): void {
    this.#loops.push(this.#followMaster());
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#loops);
  }

  /** Reads the multivariant playlist every 2 s: a rendition that appears (a restart) gets its own loop. */
  async #followMaster(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        const response = await fetch(this.masterUrl, { signal: this.#signal() });
        const text = await response.text();
        if (response.status === 200) {
          for (const url of variantPlaylists(text, this.masterUrl)) {
            if (this.edges.has(url)) continue;
            this.edges.set(url, []);
            this.#loops.push(this.#followMedia(url));
          }
        }
      } catch {
        // the edge or the stream is down: try again
      }
      await sleep(2000);
    }
  }

  async #followMedia(url: string): Promise<void> {
    const series = this.edges.get(url)!;
    let next: { msn: number; part: number } | undefined;
    while (!this.#stop.signal.aborted) {
      const target = next === undefined ? url : `${url}?_HLS_msn=${next.msn}&_HLS_part=${next.part}`;
      let text: string | undefined;
      try {
        const response = await fetch(target, { signal: this.#signal() });
        text = await response.text();
        if (response.status !== 200) text = undefined;
      } catch {
        text = undefined;
      }
      if (text === undefined) {
        next = undefined;
        await sleep(RETRY_MS);
        continue;
      }
      const read = readMediaPlaylist(text, url);
      pushBounded(series, { atMs: Date.now(), value: read.edge });
      for (const uri of read.advertised) this.ledger.add(pathOf(uri), this.row());
      // An ended playlist does not block: poll it plainly until a new broadcast replaces it.
      next = read.ended ? undefined : read.next;
      if (next === undefined) await sleep(RETRY_MS);
    }
  }

  #signal(): AbortSignal {
    return AbortSignal.any([this.#stop.signal, AbortSignal.timeout(PLAYLIST_TIMEOUT_MS)]);
  }
}

/** What the page's players did, summed over every player the monitor started (reloads included). */
export interface PlayerTotals {
  readonly stalls: number;
  /** hls.js's `type:details` of each fatal error, in order. */
  readonly fatalErrors: string[];
  /** When each was seen (epoch ms, to the sampler's 100 ms). */
  readonly fatalTimes: number[];
  /** hls.js's reason for each fatal error it reported (its message, or the HTTP status), at most 200. */
  readonly fatalReasons: string[];
  /** hls.js's non-fatal errors by `type:details` (buffer stalls, nudges, retried loads). */
  readonly nonFatalErrors: Record<string, number>;
  readonly reloads: number;
  /** Jumps to the live sync point by the tile's re-sync rule (too far behind the live edge). */
  readonly resyncs: number;
  /** The current player reached the end of its stream (an EXT-X-ENDLIST): hls.js stops reloading the playlist. */
  readonly ended: boolean;
}

/**
 * Runs in the harness page: samples the current player's currentTime every 100 ms, re-syncs it as the viewer's tile
 * does, and reloads a player 3 s after a fatal error (web/src/viewer/tile.ts RETRY_MS), replacing it with a new one
 * through the harness's `__start`.
 */
const MONITOR = `(target) => {
  const f = window.__faults = { samples: [], fatals: [], reasons: [], reloads: 0, resyncs: 0, target };
  window.__faultsReload = () => {
    const p = window.__players.at(-1);
    if (p) { p.replaced = true; p.hls.destroy(); p.video.remove(); }
    f.reloads++;
    window.__start([f.target], 250);
  };
  setInterval(() => {
    for (const q of window.__players) {
      if (!q.reasonHooked) {
        q.reasonHooked = true;
        q.hls.on('hlsError', (_e, d) => {
          const why = d.reason || (d.error && d.error.message) || (d.response && 'HTTP ' + d.response.code) || '';
          if (d.fatal && f.reasons.length < 200) f.reasons.push((d.details + ': ' + why).slice(0, 300));
        });
      }
      q.fatalSeen = q.fatalSeen || 0;
      while (q.fatalSeen < q.fatal.length) f.fatals.push([Date.now(), q.fatal[q.fatalSeen++]]);
    }
    const p = window.__players.at(-1);
    if (!p) return;
    // The tile's re-sync (web/src/viewer/tile.ts): too far behind the live edge, jump to the live sync point.
    if (!p.video.paused) {
      const to = MirrorLive.resyncPosition({ latencyS: p.hls.latency, targetLatencyS: p.hls.targetLatency,
        liveSyncPosition: p.hls.liveSyncPosition, currentTime: p.video.currentTime });
      if (to !== undefined) { p.video.currentTime = to; f.resyncs++; }
    }
    f.samples.push([Date.now(), p.video.currentTime]);
    if (f.samples.length > 20000) f.samples.splice(0, 5000);
    if (p.fatal.length > 0 && p.reloadAt === undefined) p.reloadAt = Date.now() + 3000;
    if (p.reloadAt !== undefined && !p.replaced && Date.now() >= p.reloadAt) window.__faultsReload();
  }, 100);
}`;

type PageWindow = {
  __faults: {
    samples: [number, number][];
    fatals: [number, string][];
    reasons: string[];
    reloads: number;
    resyncs: number;
  };
  __faultsReload(): void;
  __players: { stalls: number; nonFatal: Record<string, number>; video: { ended: boolean } }[];
};

/** The harness's player, watched: currentTime samples, totals, the playlists it was served, a reload on demand. */
export class PlayerMonitor {
  readonly samples: Observation<number>[] = [];

  private constructor(private readonly page: Page) {}

  /**
   * Starts the player (bench/latency-harness.ts must have opened the page) and the monitor; every media playlist
   * the player receives adds its URIs to the ledger.
   */
  static async start(
    page: Page,
    target: PlayerTarget,
    ledger: UriLedger,
    row: () => number,
  ): Promise<PlayerMonitor> {
    page.on('response', (response) => {
      if (!new URL(response.url()).pathname.endsWith('.m3u8') || response.status() !== 200) return;
      response
        .text()
        .then((text) => {
          if (!text.includes('#EXT-X-TARGETDURATION')) return;
          for (const uri of readMediaPlaylist(text, response.url()).advertised)
            ledger.add(pathOf(uri), row());
        })
        .catch(() => undefined);
    });
    await page.evaluate(`(${MONITOR})(${JSON.stringify(target)})`);
    return new PlayerMonitor(page);
  }

  /** Moves the page's samples here (call every second or so; the page keeps at most 20,000). */
  async poll(): Promise<void> {
    const drained = await this.page.evaluate(() => {
      const f = (window as unknown as PageWindow).__faults;
      return f.samples.splice(0);
    });
    for (const [atMs, value] of drained) pushBounded(this.samples, { atMs, value });
  }

  async totals(): Promise<PlayerTotals> {
    return this.page.evaluate(() => {
      const w = window as unknown as PageWindow;
      return {
        stalls: w.__players.reduce((n, p) => n + p.stalls, 0),
        fatalErrors: w.__faults.fatals.map(([, error]) => error),
        fatalTimes: w.__faults.fatals.map(([at]) => at),
        fatalReasons: [...w.__faults.reasons],
        nonFatalErrors: w.__players.reduce<Record<string, number>>((sum, p) => {
          for (const [key, n] of Object.entries(p.nonFatal)) sum[key] = (sum[key] ?? 0) + n;
          return sum;
        }, {}),
        reloads: w.__faults.reloads,
        resyncs: w.__faults.resyncs,
        ended: w.__players.at(-1)?.video.ended ?? false,
      };
    });
  }

  /** A new player for the stream, as a viewer who opens it again (or the tile's retry). */
  async reload(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as PageWindow).__faultsReload());
  }
}

export interface MissingObjects {
  /** Paths the edge did not answer 200 for. */
  readonly edge: string[];
  /** Paths storage does not hold (or could not be read). */
  readonly storage: string[];
}

/** Fetches every path through the edge and reads it from storage, 8 at a time. */
export async function findMissing(
  paths: readonly string[],
  edgeOrigin: string,
  storage: MediaStorage,
): Promise<MissingObjects> {
  const edge: string[] = [];
  const stored: string[] = [];
  let index = 0;
  const worker = async () => {
    while (index < paths.length) {
      const path = paths[index++]!;
      try {
        const response = await fetch(`${edgeOrigin}${path}`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status !== 200) edge.push(path);
      } catch {
        edge.push(path);
      }
      try {
        if ((await storage.get(decodeURIComponent(path.slice(1)))) === undefined) stored.push(path);
      } catch {
        stored.push(path);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { edge, storage: stored };
}
