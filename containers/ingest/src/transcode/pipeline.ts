import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { LADDERS, type LadderPreset, type Rung } from '../../../../core/ladder.js';
import type { RenditionSink, RenditionSinkFactory } from '../../../../core/media/rendition-sink.js';
import { ArrivalClock } from './arrival-clock.js';
import { buildFfmpegArgs, type TranscodePath } from './ffmpeg-args.js';
import { chooseEncodePath, type GpuMode, type GpuProbe } from './gpu.js';
import { type InputDescription, ProgressReader, parseInputLine } from './progress.js';
import { probeTransportStream } from './ts-probe.js';

/** The seed's per-stream memory bound between the socket and ffmpeg. */
export const DEFAULT_MAX_BUFFER_BYTES = 400 * 1024 * 1024;
/** No fMP4 output for this long while input flows: ffmpeg is hung and is killed. */
export const DEFAULT_HANG_TIMEOUT_MS = 5000;
const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 5000;
/** A process that lived this long resets the backoff. */
const HEALTHY_RUN_MS = 30_000;
/** Consecutive short-lived runs without any output before the stream is failed. */
const MAX_FUTILE_RESTARTS = 6;
const STDERR_TAIL_LINES = 20;
/** Grace for ffmpeg to flush its last fragments after stdin ends. */
const DRAIN_TIMEOUT_MS = 5000;

export type PipelineState = 'probing' | 'running' | 'restarting' | 'idle' | 'error' | 'stopped';

export interface PipelineLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface PipelineOptions {
  readonly streamId: string;
  readonly ladder: LadderPreset;
  readonly gpuMode: GpuMode;
  readonly gpu: GpuProbe;
  readonly sinks: RenditionSinkFactory;
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  readonly maxBufferBytes?: number;
  readonly hangTimeoutMs?: number;
  /** How long stop() lets ffmpeg finish the input it has before killing it (default 5 s). */
  readonly drainTimeoutMs?: number;
  readonly ffmpegPath?: string;
  readonly logger?: PipelineLogger;
  /** The stream cannot continue (unsupported input, GPU required but absent, ffmpeg keeps failing). */
  readonly onFatal?: (reason: string) => void;
}

export interface PipelineStatus {
  readonly state: PipelineState;
  readonly path: TranscodePath | null;
  readonly ladder: LadderPreset;
  readonly renditions: readonly string[];
  readonly input: (InputDescription & { readonly video?: string; readonly audio?: string | null }) | null;
  readonly bytesIn: number;
  readonly droppedBytes: number;
  readonly droppedChunks: number;
  readonly bufferedBytes: number;
  readonly restarts: number;
  readonly generation: number;
  readonly encodeFps: number | null;
  readonly speed: number | null;
  /** Output media time ffmpeg has reached in this run (progress out_time), ms. */
  readonly outTimeMs: number | null;
  readonly error: string | null;
  readonly note: string | null;
}

const silentLogger: PipelineLogger = { info() {}, warn() {}, error() {} };

/**
 * One stream's transcoder: MPEG-TS in (bounded queue), one ffmpeg, one fMP4 pipe per rung into its RenditionSink.
 * Restarts a crashed or hung ffmpeg with backoff; every restart and every encoder reconnect is a discontinuity.
 */
export class StreamPipeline {
  private state: PipelineState = 'probing';
  private readonly log: PipelineLogger;
  private readonly maxBufferBytes: number;
  private readonly hangTimeoutMs: number;
  private probeChunks: Buffer[] = [];
  private probeBytes = 0;
  /** Where each probed chunk starts in the probe bytes, and when it arrived (for the run's arrival clock). */
  private probeArrivals: { offset: number; atMs: number }[] = [];
  /** The running ffmpeg's arrival clock: the wall clock of its media time zero, from PTS and arrival times. */
  private runClock: ArrivalClock | undefined;
  /** Input waiting for ffmpeg, each chunk with its arrival time from the socket (epoch ms). */
  private queue: { chunk: Buffer; atMs: number }[] = [];
  /** A restart found no queued input: ffmpeg starts with the next chunk, which anchors its output's clock. */
  private startOnInput = false;
  private queuedBytes = 0;
  private waitingDrain = false;
  private proc: ChildProcess | null = null;
  private procExited: Promise<void> = Promise.resolve();
  private procStartedAt = 0;
  private procProducedOutput = false;
  private lastOutputAt = 0;
  private lastInputAt = 0;
  private futileRestarts = 0;
  private consecutiveFailures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly watchdog: NodeJS.Timeout;
  private readonly sinks = new Map<string, RenditionSink>();
  private rungs: readonly Rung[] = [];
  private path: TranscodePath | null = null;
  private input: PipelineStatus['input'] = null;
  private stderrTail: string[] = [];
  private counters = { bytesIn: 0, droppedBytes: 0, droppedChunks: 0, restarts: 0, generation: 0 };
  private progress: { fps: number | null; speed: number | null; outTimeMs: number | null } = {
    fps: null,
    speed: null,
    outTimeMs: null,
  };
  private error: string | null = null;
  private note: string | null = null;
  private audio: 'aac' | null = null;
  private video: 'h264' | 'hevc' = 'h264';

  constructor(private readonly options: PipelineOptions) {
    this.log = options.logger ?? silentLogger;
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.hangTimeoutMs = options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS;
    this.watchdog = setInterval(() => this.checkHung(), Math.min(1000, this.hangTimeoutMs / 2));
    this.watchdog.unref();
  }

  /** MPEG-TS bytes from the SRT socket. Never blocks; over the bound, whole chunks are dropped and counted. */
  write(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    this.lastInputAt = Date.now();
    if (this.state === 'error' || this.state === 'stopped' || this.state === 'idle') return;
    if (this.state === 'probing') {
      this.probeArrivals.push({ offset: this.probeBytes, atMs: this.lastInputAt });
      this.probeChunks.push(chunk);
      this.probeBytes += chunk.length;
      this.tryProbe();
      return;
    }
    this.enqueue(chunk, this.lastInputAt);
    if (this.startOnInput && this.state === 'running') {
      this.startOnInput = false;
      this.startProcess();
    }
  }

  /** The encoder disconnected: let ffmpeg finish what it has; sinks stay open for a reconnect. */
  endInput(): void {
    if (this.state === 'error' || this.state === 'stopped') return;
    this.state = 'idle';
    this.cancelRestart();
    this.probeChunks = [];
    this.probeBytes = 0;
    this.probeArrivals = [];
    this.endStdinWhenDrained();
  }

  /** A new encoder connection for the same stream: re-probe and continue with a discontinuity. */
  async reconnect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.cancelRestart();
    this.queue = [];
    this.queuedBytes = 0;
    await this.stopProcess();
    this.error = null;
    this.futileRestarts = 0;
    this.consecutiveFailures = 0;
    this.probeChunks = [];
    this.probeBytes = 0;
    this.probeArrivals = [];
    this.state = 'probing';
  }

  /** Drain: ffmpeg flushes its last fragments, then every sink closes its open segment. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.cancelRestart();
    clearInterval(this.watchdog);
    await this.stopProcess();
    await Promise.all([...this.sinks.values()].map((s) => s.end()));
  }

  status(): PipelineStatus {
    return {
      state: this.state,
      path: this.path,
      ladder: this.options.ladder,
      renditions: this.rungs.map((r) => r.name),
      input: this.input,
      bytesIn: this.counters.bytesIn,
      droppedBytes: this.counters.droppedBytes,
      droppedChunks: this.counters.droppedChunks,
      bufferedBytes: this.queuedBytes + this.probeBytes,
      restarts: this.counters.restarts,
      generation: this.counters.generation,
      encodeFps: this.progress.fps,
      speed: this.progress.speed,
      outTimeMs: this.progress.outTimeMs,
      error: this.error,
      note: this.note,
    };
  }

  /** For tests and diagnostics: the running ffmpeg's pid. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private tryProbe(): void {
    const bytes = Buffer.concat(this.probeChunks);
    this.probeChunks = [bytes];
    const result = probeTransportStream(bytes);
    if (result.kind === 'need-more') return;
    if (result.kind === 'not-ts' || result.kind === 'unsupported') {
      this.fail(`input refused: ${result.reason}`);
      return;
    }
    this.video = result.video;
    this.audio = result.audio;
    this.input = { video: result.video, audio: result.audio };
    if (!this.choosePath()) return;
    const arrivals = this.probeArrivals;
    this.probeChunks = [];
    this.probeBytes = 0;
    this.probeArrivals = [];
    this.probeArrivals = [];
    this.state = 'running';
    // Each probed chunk keeps its own arrival time: the arrival clock needs them.
    arrivals.forEach(({ offset, atMs }, i) => {
      this.enqueue(bytes.subarray(offset, arrivals[i + 1]?.offset ?? bytes.length), atMs);
    });
    this.startProcess();
  }

  private choosePath(): boolean {
    let ladder = this.options.ladder;
    this.note = null;
    if (ladder === 'passthrough') {
      if (this.video === 'h264') {
        this.path = 'passthrough';
        this.rungs = LADDERS.passthrough;
        return true;
      }
      // Browsers cannot play HEVC: passthrough needs H.264, so an HEVC feed gets the tile rung.
      ladder = 'tile';
      this.note = 'passthrough needs H.264 input; HEVC is transcoded to the tile rung';
    }
    const decision = chooseEncodePath(this.options.gpuMode, this.options.gpu);
    if (!decision.ok) {
      this.fail(decision.reason);
      return false;
    }
    this.path = decision.path;
    this.rungs = LADDERS[ladder];
    return true;
  }

  /**
   * Spawns ffmpeg for the queued input. The first queued chunk's arrival time is this run's ingest anchor: the
   * packager stamps the run's first output decode time with it (EXT-X-PROGRAM-DATE-TIME).
   */
  private startProcess(): void {
    if (!this.path) return;
    const ingestAnchorMs = this.queue[0]?.atMs;
    if (ingestAnchorMs === undefined) {
      this.startOnInput = true;
      return;
    }
    const clock = new ArrivalClock();
    for (const { chunk, atMs } of this.queue) clock.observe(chunk, atMs);
    this.runClock = clock;
    const start = { ingestAnchorMs, ingestClock: () => clock.anchorMs() };
    const invocation = buildFfmpegArgs({
      path: this.path,
      input: { video: this.video, audio: this.audio },
      rungs: this.rungs,
      partTargetMs: this.options.partTargetMs,
      segmentTargetMs: this.options.segmentTargetMs,
    });
    const firstRun = this.counters.generation === 0 && this.sinks.size === 0;
    this.counters.generation += 1;
    for (const { rendition } of invocation.outputs) {
      const existing = this.sinks.get(rendition);
      if (existing) existing.restart(start);
      else this.sinks.set(rendition, this.options.sinks.open(this.options.streamId, rendition, start));
    }
    const stdio: ('pipe' | 'ignore')[] = [
      'pipe',
      'ignore',
      'pipe',
      ...invocation.outputs.map(() => 'pipe' as const),
    ];
    const proc = spawn(this.options.ffmpegPath ?? 'ffmpeg', invocation.args, { stdio });
    this.proc = proc;
    this.procStartedAt = Date.now();
    this.lastOutputAt = this.procStartedAt;
    this.procProducedOutput = false;
    this.waitingDrain = false;
    this.log.info('ffmpeg started', {
      streamId: this.options.streamId,
      pid: proc.pid,
      path: this.path,
      renditions: invocation.outputs.map((o) => o.rendition),
      discontinuity: !firstRun,
    });
    for (const { rendition, fd } of invocation.outputs) {
      const sink = this.sinks.get(rendition)!;
      const out = proc.stdio[fd] as Readable;
      out.on('data', (data: Buffer) => {
        if (this.proc !== proc) return;
        this.lastOutputAt = Date.now();
        this.procProducedOutput = true;
        sink.write(data);
      });
      out.on('error', () => {});
    }
    const stdin = proc.stdin as Writable;
    stdin.on('error', () => {});
    stdin.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
    const progress = new ProgressReader();
    const lines = createInterface({ input: proc.stderr as Readable });
    // Stream lines after "Output #" describe the outputs, not the input.
    let inOutputSection = false;
    lines.on('line', (line) => {
      const report = progress.line(line);
      if (report) {
        this.progress = {
          fps: report.fps ?? null,
          speed: report.speed ?? null,
          outTimeMs: report.outTimeUs === undefined ? null : report.outTimeUs / 1000,
        };
        return;
      }
      if (/^\w+=/.test(line)) return;
      if (line.startsWith('Output #')) inOutputSection = true;
      const described = inOutputSection ? null : parseInputLine(line);
      if (described && this.input) this.input = { ...this.input, ...described };
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    this.procExited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.onExit(proc, code, signal);
        resolve();
      });
    });
    this.pump();
  }

  private onExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc !== proc) return;
    this.proc = null;
    if (this.state !== 'running') return;
    const lived = Date.now() - this.procStartedAt;
    this.consecutiveFailures = lived > HEALTHY_RUN_MS ? 1 : this.consecutiveFailures + 1;
    this.futileRestarts = this.procProducedOutput ? 0 : this.futileRestarts + 1;
    const lastLine = this.stderrTail.filter((l) => l.trim() !== '').at(-1) ?? '';
    this.log.warn('ffmpeg exited; restarting', {
      streamId: this.options.streamId,
      code,
      signal,
      livedMs: lived,
      lastLine,
    });
    if (this.futileRestarts >= MAX_FUTILE_RESTARTS) {
      this.fail(`ffmpeg failed ${this.futileRestarts} times without output: ${lastLine}`);
      return;
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** (this.consecutiveFailures - 1));
    this.state = 'restarting';
    this.counters.restarts += 1;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.state !== 'restarting') return;
      this.state = 'running';
      this.startProcess();
    }, delay);
  }

  private checkHung(): void {
    if (this.state !== 'running' || !this.proc) return;
    const now = Date.now();
    const inputFlowing = now - this.lastInputAt < this.hangTimeoutMs;
    // Before its first output ffmpeg may be waiting for the encoder's first key frame: allow twice as long.
    const limit = this.procProducedOutput ? this.hangTimeoutMs : 2 * this.hangTimeoutMs;
    if (inputFlowing && now - this.lastOutputAt > limit) {
      this.log.warn('ffmpeg produced no output; killing it', {
        streamId: this.options.streamId,
        pid: this.proc.pid,
        silentMs: now - this.lastOutputAt,
      });
      this.lastOutputAt = now;
      this.proc.kill('SIGKILL');
    }
  }

  private enqueue(chunk: Buffer, atMs: number): void {
    if (this.queuedBytes + chunk.length > this.maxBufferBytes) {
      this.counters.droppedBytes += chunk.length;
      this.counters.droppedChunks += 1;
      return;
    }
    this.queue.push({ chunk, atMs });
    this.queuedBytes += chunk.length;
    if (this.proc) this.runClock?.observe(chunk, atMs);
    this.pump();
  }

  private pump(): void {
    const stdin = this.proc?.stdin;
    if (!stdin || this.waitingDrain || stdin.destroyed || stdin.writableEnded) return;
    while (this.queue.length > 0) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      if (!stdin.write(chunk)) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  private endStdinWhenDrained(): void {
    const stdin = this.proc?.stdin;
    if (!stdin) return;
    if (this.queue.length > 0 && !stdin.destroyed) {
      for (const { chunk } of this.queue) stdin.write(chunk);
      this.queue = [];
      this.queuedBytes = 0;
    }
    stdin.end();
  }

  private async stopProcess(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.endStdinWhenDrained();
    const timer = setTimeout(() => proc.kill('SIGKILL'), this.options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
    await this.procExited;
    clearTimeout(timer);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.startOnInput = false;
  }

  private fail(reason: string): void {
    this.error = reason;
    this.state = 'error';
    this.probeChunks = [];
    this.probeBytes = 0;
    this.probeArrivals = [];
    this.queue = [];
    this.queuedBytes = 0;
    this.cancelRestart();
    this.log.error('stream failed', { streamId: this.options.streamId, reason });
    if (this.proc) this.proc.kill('SIGKILL');
    this.options.onFatal?.(reason);
  }
}
