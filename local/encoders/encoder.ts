import type { ChildProcess } from 'node:child_process';
import { spawnOwnGroup, terminate } from '../processes.js';
import { pushArgs } from './args.js';

export interface EncoderState {
  readonly name: string;
  readonly running: boolean;
  readonly restarts: number;
  readonly lastError?: string;
}

export interface EncoderRun {
  readonly startedAtMs: number;
  /** Undefined while it runs. */
  exitedAtMs?: number;
}
const MAX_RUNS_KEPT = 32;

/** Backoff between restarts: the ingest may not listen yet, or may have refused us for a moment. */
const RESTART_DELAYS_MS = [500, 1000, 2000, 4000] as const;

/**
 * One synthetic encoder: ffmpeg pushing the looped clip over SRT, restarted with backoff when it
 * exits (ingest not up yet, connection refused, link dropped), until stop().
 */
export class SyntheticEncoder {
  #child: ChildProcess | undefined;
  #stopped = false;
  #restarts = 0;
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #runs: EncoderRun[] = [];

  constructor(
    readonly name: string,
    private readonly clipFile: string,
    private readonly srtUrl: string,
    /**
     * A command ffmpeg runs under, e.g. `ip netns exec <ns>` to push from a network namespace whose link the fault
     * suite makes lossy. It must exec ffmpeg (as `ip netns exec` does), so the pid stays ffmpeg's.
     */
    private readonly commandPrefix: readonly string[] = [],
  ) {}

  get state(): EncoderState {
    return {
      name: this.name,
      running: this.#child !== undefined,
      restarts: this.#restarts,
      lastError: this.#lastError,
    };
  }

  /** The latest ffmpeg runs, oldest first (at most MAX_RUNS_KEPT): when the fault suite's encoder was back. */
  get runs(): readonly EncoderRun[] {
    return this.#runs;
  }

  /** The pid of the running ffmpeg, if any (for tests that check nothing is left behind). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#stopped || this.#child !== undefined) return;
    this.#startedAt = Date.now();
    const run: EncoderRun = { startedAtMs: this.#startedAt };
    this.#runs = [...this.#runs.slice(1 - MAX_RUNS_KEPT), run];
    // stop() ends it; Ctrl-C must not end it first, a dead platform must (see spawnOwnGroup).
    const [command = 'ffmpeg', ...prefixArgs] = [...this.commandPrefix, 'ffmpeg'];
    const child = spawnOwnGroup(command, [...prefixArgs, ...pushArgs(this.clipFile, this.srtUrl)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.once('error', (error) => {
      this.#lastError = error.message;
    });
    child.once('exit', (code, signal) => {
      run.exitedAtMs = Date.now();
      this.#child = undefined;
      if (this.#stopped) return;
      // Never log the URL: it carries the publish key and passphrase.
      this.#lastError = stderr.trim().split('\n').at(-1) ?? `exit ${code ?? signal}`;
      const ranLong = Date.now() - this.#startedAt > 10_000;
      const delay = ranLong
        ? RESTART_DELAYS_MS[0]
        : RESTART_DELAYS_MS[Math.min(this.#restarts, RESTART_DELAYS_MS.length - 1)];
      this.#restarts++;
      this.#timer = setTimeout(() => this.start(), delay);
    });
  }

  /** Stops ffmpeg (SIGTERM, then SIGKILL after a second) and waits until it has exited. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#child !== undefined) await terminate(this.#child, 1000);
  }
}
