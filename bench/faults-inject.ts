/**
 * The fault suite's faults, each injected into the running local platform (local/platform.ts handles: redis-server,
 * s3rver, the ingest process) or into its encoder and SRT link, and each returning when the fault began and ended.
 */
import { spawnSync } from 'node:child_process';
import { HOST_IP, NS, NS_IF, setupNetns, teardownNetns } from '../containers/ingest/scripts/netns-loss.js';
import { SyntheticEncoder } from '../local/encoders/encoder.js';
import type { Platform } from '../local/platform.js';
import { readMediaPlaylist, variantPlaylists } from './faults-model.js';
import type { PlayerMonitor } from './faults-observe.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The ingest's MIRROR_RECONNECT_GRACE_MS, which the local platform leaves at its default. */
const RECONNECT_GRACE_MS = 10_000;

export const FAULT_NAMES = [
  's3',
  'encoder-kill',
  'ingest-kill',
  'ingest-term',
  'ttl-restart',
  'srt-loss',
  'redis',
] as const;
/**
 * The default order. Redis goes last: redis-server comes back empty (no persistence), and the stream registry lives
 * there too, so an ingest started after it would no longer know the stream (docs/operations.md, Fault suite).
 */
export type FaultName = (typeof FAULT_NAMES)[number];

/** The one encoder of the suite's stream: ffmpeg pushing a looped clip over SRT, reconnecting as OBS does. */
export class EncoderRig {
  #encoder: SyntheticEncoder | undefined;

  constructor(
    private readonly srtUrl: string,
    private readonly commandPrefix: readonly string[],
  ) {}

  start(clipFile: string): void {
    this.#encoder = new SyntheticEncoder('faults', clipFile, this.srtUrl, this.commandPrefix);
    this.#encoder.start();
  }

  /** SIGKILL of the running ffmpeg; the encoder starts it again after its backoff (500 ms after a long run). */
  kill(): boolean {
    const pid = this.#encoder?.pid;
    if (pid === undefined) return false;
    process.kill(pid, 'SIGKILL');
    return true;
  }

  /**
   * When the encoder was back after a fault that began at `sinceMs`: the start of its first ffmpeg run begun after
   * then that was still running at `readyMs` or began later (runs that failed before Mirror was ready do not count).
   * Waits up to `timeoutMs` for one; undefined if none came.
   */
  async backSince(sinceMs: number, readyMs: number, timeoutMs = 20_000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const run = this.#encoder?.runs.find(
        (r) => r.startedAtMs > sinceMs && (r.exitedAtMs === undefined || r.exitedAtMs >= readyMs),
      );
      if (run !== undefined) return run.startedAtMs;
      await sleep(50);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await this.#encoder?.stop();
    this.#encoder = undefined;
  }
}

/** Why the encoder cannot push from a network namespace here (the loss fault is then skipped), if it cannot. */
export function lossLinkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nftables)';
  for (const command of ['ip', 'nft']) {
    if (spawnSync(command, ['-V'], { stdio: 'ignore' }).error !== undefined)
      return `\`${command}\` not installed`;
  }
  return undefined;
}

const nft = (...args: string[]) =>
  spawnSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' });
const LOSS_TABLE = 'mirror_faults';

/**
 * The encoder's link: a network namespace and veth pair (containers/ingest/scripts/netns-loss.ts), lossless until
 * `lossy()` adds random drops both ways in a table of its own, which `clear()` deletes again.
 */
export class LossLink {
  readonly host = HOST_IP;
  /** ffmpeg runs inside the namespace: `ip netns exec` execs it, so its pid is ffmpeg's. */
  readonly commandPrefix = ['ip', 'netns', 'exec', NS];

  static setUp(): LossLink {
    setupNetns(0);
    return new LossLink();
  }

  lossy(percent: number): void {
    const rule = (chain: 'out' | 'in') =>
      `${chain === 'out' ? 'oifname' : 'iifname'} ${NS_IF} meta l4proto udp numgen random mod 100 < ${percent} counter drop`;
    for (const command of [
      `add table inet ${LOSS_TABLE}`,
      `add chain inet ${LOSS_TABLE} out { type filter hook output priority 0; }`,
      `add chain inet ${LOSS_TABLE} in { type filter hook input priority 0; }`,
      `add rule inet ${LOSS_TABLE} out ${rule('out')}`,
      `add rule inet ${LOSS_TABLE} in ${rule('in')}`,
    ]) {
      const result = nft(...command.split(' '));
      if (result.status !== 0) throw new Error(`nft ${command}: ${result.stderr}`);
    }
  }

  /** Removes the loss; returns the packets it dropped (each direction), from the rules' counters. */
  clear(): string {
    const listing = nft('list', 'table', 'inet', LOSS_TABLE).stdout ?? '';
    nft('delete', 'table', 'inet', LOSS_TABLE);
    return listing
      .split('\n')
      .filter((l) => l.includes('counter'))
      .map((l) => l.trim().replace(/.*counter /, ''))
      .join('; ');
  }

  tearDown(): void {
    teardownNetns();
  }
}

/** What a fault needs from the run. */
export interface Rig {
  readonly platform: Platform;
  readonly encoder: EncoderRig;
  readonly player: PlayerMonitor;
  readonly link: LossLink | undefined;
  readonly masterUrl: string;
  /** The clip the encoder pushes after the TTL fault (another resolution). */
  readonly otherClip: string;
  readonly outageS: number;
  readonly lossS: number;
  readonly lossPercent: number;
  readonly liveTtlS: number;
}

/** When the fault began and ended (epoch ms); `offline` is a span the stream is meant to be down (not a failure). */
export interface FaultWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly offline?: { readonly fromMs: number; readonly toMs: number };
  readonly note?: string;
}

export interface FaultSpec {
  readonly name: FaultName;
  label(rig: Rig): string;
  /** Why it cannot run here, if it cannot. */
  unavailable?(rig: Rig): string | undefined;
  inject(rig: Rig): Promise<FaultWindow>;
}

/** Reads a URL's status and body; undefined when the request failed. */
async function read(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}

/**
 * Waits until the stream is `gone` (its multivariant playlist 404s: no live state) or `live` (a media playlist with
 * parts and no EXT-X-ENDLIST: a new broadcast, not the old one's last, ended publish). False after `timeoutMs`.
 */
async function waitForStream(masterUrl: string, want: 'gone' | 'live', timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const master = await read(masterUrl);
    // Gone: 404, or the manifest's 503 `stream_offline` for a stream it served recently (decision D23).
    const offline = master?.status === 503 && master.text.includes('stream_offline');
    if (want === 'gone' && (master?.status === 404 || offline)) return true;
    const media = master?.status === 200 ? variantPlaylists(master.text, masterUrl)[0] : undefined;
    if (want === 'live' && media !== undefined) {
      const playlist = await read(media);
      const state = playlist?.status === 200 ? readMediaPlaylist(playlist.text, media) : undefined;
      if (state !== undefined && !state.ended && state.edge !== undefined) return true;
    }
    await sleep(250);
  }
  return false;
}

const withoutIngest = (rig: Rig) =>
  rig.platform.ingest === undefined ? 'no ingest process (direct feed)' : undefined;

/** Ends the ingest process with `signal` (SIGTERM: it drains first) and starts a new one, as ECS replaces a task. */
/**
 * The end of a fault the encoder has to reconnect after: `readyMs` (Mirror's side is back), or later when the encoder
 * came back later. An encoder notices a dead SRT peer only after its own peer idle timeout (libsrt: 5 s) and
 * reconnects after its own retry delay; neither is Mirror's to shorten, so recovery counts from there (the note
 * keeps both times).
 */
async function untilEncoderBack(
  rig: Rig,
  startMs: number,
  readyMs: number,
  note: string,
): Promise<FaultWindow> {
  const backMs = await rig.encoder.backSince(startMs, readyMs);
  if (backMs === undefined) throw new Error('the encoder did not reconnect within 20 s');
  const endMs = Math.max(readyMs, backMs);
  return {
    startMs,
    endMs,
    note: `${note}; Mirror back after ${((readyMs - startMs) / 1000).toFixed(1)} s, encoder reconnected after ${((backMs - startMs) / 1000).toFixed(1)} s`,
  };
}

async function replaceIngest(rig: Rig, signal: 'SIGKILL' | 'SIGTERM'): Promise<FaultWindow> {
  const startMs = Date.now();
  const exit = await rig.platform.ingest!.signal(signal);
  const exitedMs = Date.now() - startMs;
  await rig.platform.ingest!.start();
  return untilEncoderBack(
    rig,
    startMs,
    Date.now(),
    `exited after ${exitedMs} ms (${exit.code ?? exit.signal})`,
  );
}

export const FAULTS: Readonly<Record<FaultName, FaultSpec>> = {
  redis: {
    name: 'redis',
    label: (rig) => `redis-server killed, back after ${rig.outageS} s (empty)`,
    async inject(rig) {
      const startMs = Date.now();
      await rig.platform.redisServer.kill();
      await sleep(rig.outageS * 1000);
      await rig.platform.redisServer.start();
      return { startMs, endMs: Date.now() };
    },
  },
  s3: {
    name: 's3',
    label: (rig) => `s3rver stopped for ${rig.outageS} s`,
    unavailable: (rig) => (rig.platform.s3 === undefined ? 'the platform runs without s3rver' : undefined),
    async inject(rig) {
      const startMs = Date.now();
      await rig.platform.s3!.stop();
      await sleep(rig.outageS * 1000);
      await rig.platform.s3!.start();
      return { startMs, endMs: Date.now() };
    },
  },
  'encoder-kill': {
    name: 'encoder-kill',
    label: () => 'encoder ffmpeg SIGKILL (reconnects)',
    async inject(rig) {
      const startMs = Date.now();
      if (!rig.encoder.kill()) throw new Error('the encoder was not running');
      return untilEncoderBack(rig, startMs, startMs, 'SIGKILL');
    },
  },
  'ingest-kill': {
    name: 'ingest-kill',
    label: () => 'ingest SIGKILL, restarted',
    unavailable: withoutIngest,
    // ECS starts the replacement after the health check fails; locally at once, so this measures the rest.
    inject: (rig) => replaceIngest(rig, 'SIGKILL'),
  },
  'ingest-term': {
    name: 'ingest-term',
    label: () => 'ingest SIGTERM during publish, restarted',
    unavailable: withoutIngest,
    // One SRT port here: the replacement starts once the old task is gone (on AWS it is up before).
    inject: (rig) => replaceIngest(rig, 'SIGTERM'),
  },
  'ttl-restart': {
    name: 'ttl-restart',
    label: (rig) => `stopped > live TTL (${rig.liveTtlS} s), back at 1280x720`,
    async inject(rig) {
      const startMs = Date.now();
      await rig.encoder.stop();
      // The broadcast ends when the reconnect grace runs out (its last publish marks the playlist ended), then the
      // live state expires: only a 404 after both is "stopped for longer than the TTL". An earlier 404 (TTL shorter
      // than the grace) would be a reconnect within the same broadcast.
      await sleep(RECONNECT_GRACE_MS + 2000);
      if (!(await waitForStream(rig.masterUrl, 'gone', (rig.liveTtlS + 30) * 1000)))
        throw new Error('the stream never went away (live state did not expire)');
      await sleep(1000);
      rig.encoder.start(rig.otherClip);
      const endMs = Date.now();
      // A viewer opens the stream again once it is back (the old player saw it end).
      if (!(await waitForStream(rig.masterUrl, 'live', 30_000)))
        throw new Error('the stream did not come back');
      await rig.player.reload();
      return {
        startMs,
        endMs,
        offline: { fromMs: startMs, toMs: endMs },
        note: `offline ${endMs - startMs} ms`,
      };
    },
  },
  'srt-loss': {
    name: 'srt-loss',
    label: (rig) => `${rig.lossPercent}% loss on the SRT link for ${rig.lossS} s`,
    unavailable: (rig) =>
      rig.link === undefined ? (lossLinkUnavailable() ?? 'no network namespace') : undefined,
    async inject(rig) {
      const startMs = Date.now();
      rig.link!.lossy(rig.lossPercent);
      let dropped = '';
      try {
        await sleep(rig.lossS * 1000);
      } finally {
        dropped = rig.link!.clear();
      }
      return { startMs, endMs: Date.now(), note: `nftables dropped ${dropped}` };
    },
  },
};
