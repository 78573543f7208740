import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../../core/logger.js';
import type { InputQueue } from './input-queue.js';
import { type InputDescription, ProgressReader, parseInputLine } from './progress.js';

const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 5000;
/** A process that lived this long resets the backoff. */
const HEALTHY_RUN_MS = 30_000;
/** Consecutive short-lived runs without any output before the stream is failed. */
export const MAX_FUTILE_RESTARTS = 6;
const STDERR_TAIL_LINES = 20;
/** Grace for ffmpeg to flush its last fragments after stdin ends. */
export const DRAIN_TIMEOUT_MS = 5000;

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number }
  | { readonly kind: 'give-up'; readonly futileRuns: number };

/**
 * When to restart an ffmpeg that exited: exponential backoff over consecutive short runs (a run that lived
 * HEALTHY_RUN_MS starts over), and give up after MAX_FUTILE_RESTARTS runs in a row that produced no output.
 */
export class RestartBackoff {
  private consecutiveFailures = 0;
  private futileRuns = 0;

  afterExit(livedMs: number, producedOutput: boolean): RestartDecision {
    this.consecutiveFailures = livedMs > HEALTHY_RUN_MS ? 1 : this.consecutiveFailures + 1;
    this.futileRuns = producedOutput ? 0 : this.futileRuns + 1;
    if (this.futileRuns >= MAX_FUTILE_RESTARTS) return { kind: 'give-up', futileRuns: this.futileRuns };
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** (this.consecutiveFailures - 1));
    return { kind: 'restart', delayMs };
  }

  reset(): void {
    this.consecutiveFailures = 0;
    this.futileRuns = 0;
  }
}

/**
 * Pure: ffmpeg counts as hung when input flows but no output came for the timeout. Before its first output it
 * may be waiting for the encoder's first key frame, so it gets twice as long.
 */
export function isHung(run: {
  readonly nowMs: number;
  readonly lastInputAtMs: number;
  readonly lastOutputAtMs: number;
  readonly producedOutput: boolean;
  readonly hangTimeoutMs: number;
}): boolean {
  const inputFlowing = run.nowMs - run.lastInputAtMs < run.hangTimeoutMs;
  const limit = run.producedOutput ? run.hangTimeoutMs : 2 * run.hangTimeoutMs;
  return inputFlowing && run.nowMs - run.lastOutputAtMs > limit;
}

/** One ffmpeg run: its argv and where each output descriptor's bytes go. */
export interface RunPlan {
  readonly args: readonly string[];
  /** Descriptors from FIRST_OUTPUT_FD up, in order. */
  readonly outputs: readonly { readonly fd: number; readonly write: (data: Buffer) => void }[];
  /** Fields for the 'ffmpeg started' log line. */
  readonly details: Record<string, unknown>;
}

export interface RunProgress {
  readonly fps: number | null;
  readonly speed: number | null;
  /** Output media time ffmpeg has reached in this run (progress out_time), ms. */
  readonly outTimeMs: number | null;
}

export interface SupervisorOptions {
  readonly streamId: string;
  readonly ffmpegPath?: string;
  readonly hangTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly log: Logger;
  /** What ffmpeg's stdin is fed from. */
  readonly queue: InputQueue;
  /** When input last arrived (epoch ms): a silent ffmpeg is hung only while input flows. */
  readonly lastInputAtMs: () => number;
  /** The next run (opens or restarts its sinks); null while no input is queued to anchor its clock. */
  readonly prepareRun: () => RunPlan | null;
  /** ffmpeg described its input (size, frame rate) on stderr. */
  readonly onInputDescribed: (description: InputDescription) => void;
  /** Runs keep dying without output: the stream cannot continue. */
  readonly onGiveUp: (reason: string) => void;
}

/**
 * Keeps one ffmpeg running for a stream: spawns it without a shell, feeds stdin from the queue with
 * back-pressure, reads progress and the input description from stderr, kills it when hung, restarts it with
 * backoff after an exit, and drains it (stdin ends, a grace to flush, then SIGKILL).
 */
export class FfmpegSupervisor {
  /** off: no ffmpeg is wanted; an exit then is final. */
  private phase: 'off' | 'running' | 'restarting' = 'off';
  private proc: ChildProcess | null = null;
  private procExited: Promise<void> = Promise.resolve();
  private procStartedAt = 0;
  private procProducedOutput = false;
  private lastOutputAt = 0;
  private waitingDrain = false;
  /** A run found no queued input: ffmpeg starts with the next chunk, which anchors its output's clock. */
  private startOnInput = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly watchdog: NodeJS.Timeout;
  private readonly backoff = new RestartBackoff();
  private stderrTail: string[] = [];
  private restartCount = 0;
  private lastProgress: RunProgress = { fps: null, speed: null, outTimeMs: null };

  constructor(private readonly options: SupervisorOptions) {
    this.watchdog = setInterval(() => this.checkHung(), Math.min(1000, options.hangTimeoutMs / 2));
    this.watchdog.unref();
  }

  get restarting(): boolean {
    return this.phase === 'restarting';
  }

  get restarts(): number {
    return this.restartCount;
  }

  get progress(): RunProgress {
    return this.lastProgress;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get hasProcess(): boolean {
    return this.proc !== null;
  }

  /** The stream is ready for ffmpeg: run it, and keep it running until halt(). */
  start(): void {
    this.phase = 'running';
    this.launch();
  }

  /** New input was queued: starts a run that was waiting for input to anchor its clock. */
  inputArrived(): void {
    if (this.startOnInput && this.phase === 'running') {
      this.startOnInput = false;
      this.launch();
    }
  }

  /** Cancels a pending restart (or a run waiting for input) without changing what is wanted. */
  cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.startOnInput = false;
  }

  /** No ffmpeg is wanted any more: a pending restart is cancelled and the next exit is final. */
  halt(): void {
    this.phase = 'off';
    this.cancelRestart();
  }

  /** halt(), and the failure count starts over (a new connection is a new start). */
  reset(): void {
    this.halt();
    this.backoff.reset();
  }

  /** halt() and kill the running ffmpeg at once (the stream failed). */
  abort(): void {
    this.halt();
    this.proc?.kill('SIGKILL');
  }

  /** halt(), stop the watchdog and drain the running ffmpeg. */
  async shutdown(): Promise<void> {
    this.halt();
    clearInterval(this.watchdog);
    await this.stopProcess();
  }

  /** Writes queued input to ffmpeg's stdin until it pushes back (it resumes on 'drain'). */
  pump(): void {
    const stdin = this.proc?.stdin;
    if (!stdin || this.waitingDrain || stdin.destroyed || stdin.writableEnded) return;
    if (!this.options.queue.drainInto((chunk) => stdin.write(chunk))) this.waitingDrain = true;
  }

  /** The input ended: ffmpeg gets what is queued, then end of file, and finishes on its own. */
  endInput(): void {
    const stdin = this.proc?.stdin;
    if (!stdin) return;
    if (this.options.queue.length > 0 && !stdin.destroyed)
      this.options.queue.flushInto((c) => stdin.write(c));
    stdin.end();
  }

  /** Ends ffmpeg's input and waits for it to exit, killing it after the drain timeout. */
  async stopProcess(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.endInput();
    const timer = setTimeout(() => proc.kill('SIGKILL'), this.options.drainTimeoutMs);
    await this.procExited;
    clearTimeout(timer);
  }

  private launch(): void {
    const plan = this.options.prepareRun();
    if (!plan) {
      this.startOnInput = true;
      return;
    }
    const stdio: ('pipe' | 'ignore')[] = [
      'pipe',
      'ignore',
      'pipe',
      ...plan.outputs.map(() => 'pipe' as const),
    ];
    const proc = spawn(this.options.ffmpegPath ?? 'ffmpeg', plan.args, { stdio });
    this.proc = proc;
    this.procStartedAt = Date.now();
    this.lastOutputAt = this.procStartedAt;
    this.procProducedOutput = false;
    this.waitingDrain = false;
    this.options.log.info('ffmpeg started', {
      streamId: this.options.streamId,
      pid: proc.pid,
      ...plan.details,
    });
    for (const { fd, write } of plan.outputs) {
      const out = proc.stdio[fd] as Readable;
      out.on('data', (data: Buffer) => {
        if (this.proc !== proc) return;
        this.lastOutputAt = Date.now();
        this.procProducedOutput = true;
        write(data);
      });
      out.on('error', () => {});
    }
    const stdin = proc.stdin as Writable;
    stdin.on('error', () => {});
    stdin.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
    this.readStderr(proc.stderr as Readable);
    this.procExited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.onExit(proc, code, signal);
        resolve();
      });
    });
    this.pump();
  }

  private readStderr(stderr: Readable): void {
    const progress = new ProgressReader();
    const lines = createInterface({ input: stderr });
    // Stream lines after "Output #" describe the outputs, not the input.
    let inOutputSection = false;
    lines.on('line', (line) => {
      const report = progress.line(line);
      if (report) {
        this.lastProgress = {
          fps: report.fps ?? null,
          speed: report.speed ?? null,
          outTimeMs: report.outTimeUs === undefined ? null : report.outTimeUs / 1000,
        };
        return;
      }
      if (/^\w+=/.test(line)) return;
      if (line.startsWith('Output #')) inOutputSection = true;
      const described = inOutputSection ? null : parseInputLine(line);
      if (described) this.options.onInputDescribed(described);
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
  }

  private onExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc !== proc) return;
    this.proc = null;
    if (this.phase !== 'running') return;
    const lived = Date.now() - this.procStartedAt;
    const decision = this.backoff.afterExit(lived, this.procProducedOutput);
    const lastLine = this.stderrTail.filter((l) => l.trim() !== '').at(-1) ?? '';
    this.options.log.warn('ffmpeg exited; restarting', {
      streamId: this.options.streamId,
      code,
      signal,
      livedMs: lived,
      lastLine,
    });
    if (decision.kind === 'give-up') {
      this.options.onGiveUp(`ffmpeg failed ${decision.futileRuns} times without output: ${lastLine}`);
      return;
    }
    this.phase = 'restarting';
    this.restartCount += 1;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.phase !== 'restarting') return;
      this.phase = 'running';
      this.launch();
    }, decision.delayMs);
  }

  private checkHung(): void {
    if (this.phase !== 'running' || !this.proc) return;
    const now = Date.now();
    const hung = isHung({
      nowMs: now,
      lastInputAtMs: this.options.lastInputAtMs(),
      lastOutputAtMs: this.lastOutputAt,
      producedOutput: this.procProducedOutput,
      hangTimeoutMs: this.options.hangTimeoutMs,
    });
    if (!hung) return;
    this.options.log.warn('ffmpeg produced no output; killing it', {
      streamId: this.options.streamId,
      pid: this.proc.pid,
      silentMs: now - this.lastOutputAt,
    });
    this.lastOutputAt = now;
    this.proc.kill('SIGKILL');
  }
}
