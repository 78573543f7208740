import { LADDERS, type LadderPreset, type Rung } from '../../../../core/ladder.js';
import {
  DEFAULT_LATENCY_PROFILE,
  type LatencyProfile,
  PROFILE_TARGETS,
  type RenditionTargets,
  renditionTargets,
} from '../../../../core/latency-profiles.js';
import { type Logger, silentLogger } from '../../../../core/logger.js';
import type {
  EndOptions,
  ProducerStart,
  RenditionSink,
  RenditionSinkFactory,
} from '../../../../core/media/rendition-sink.js';
import { ArrivalClock } from './arrival-clock.js';
import { buildFfmpegArgs, type TranscodePath } from './ffmpeg-args.js';
import { DRAIN_TIMEOUT_MS, FfmpegSupervisor, type RunPlan } from './ffmpeg-supervisor.js';
import { chooseEncodePath, type GpuMode, type GpuProbe } from './gpu.js';
import { InputProbe } from './input-probe.js';
import { InputQueue } from './input-queue.js';
import type { InputDescription } from './progress.js';

/**
 * Per-stream memory bound between the socket and ffmpeg: over a minute even of a 50 Mbps feed, so an ffmpeg
 * restart (backoff up to 5 s) loses no input, while a stalled ffmpeg cannot exhaust the task's memory.
 */
export const DEFAULT_MAX_BUFFER_BYTES = 400 * 1024 * 1024;
/** No fMP4 output for this long while input flows: ffmpeg is hung and is killed. */
export const DEFAULT_HANG_TIMEOUT_MS = 5000;

export type PipelineState = 'probing' | 'running' | 'restarting' | 'idle' | 'error' | 'stopped';

/** The Logger port; the alias keeps the name importers know. */
export type PipelineLogger = Logger;

export interface PipelineOptions {
  readonly streamId: string;
  readonly ladder: LadderPreset;
  readonly gpuMode: GpuMode;
  readonly gpu: GpuProbe;
  readonly sinks: RenditionSinkFactory;
  /**
   * The stream's delivery profile (decision D28): each rung's part target and the ladder's segment target, for
   * ffmpeg's outputs and the renditions' packagers alike. DEFAULT_LATENCY_PROFILE when absent.
   */
  readonly latencyProfile?: LatencyProfile;
  readonly maxBufferBytes?: number;
  readonly hangTimeoutMs?: number;
  /** How long stop() lets ffmpeg finish the input it has before killing it (default 5 s). */
  readonly drainTimeoutMs?: number;
  readonly ffmpegPath?: string;
  readonly logger?: PipelineLogger;
  /** The stream cannot continue (unsupported input, GPU required but absent, ffmpeg keeps failing). */
  readonly onFatal?: (reason: string) => void;
  /**
   * The first connection's broadcast (decision D16), named at admission; reconnect() brings the next one. Without
   * it each rendition's packager names one itself.
   */
  readonly broadcast?: string;
}

export interface PipelineStatus {
  readonly state: PipelineState;
  /** The broadcast the renditions are written under (decision D16). */
  readonly broadcast?: string;
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

/**
 * One stream's transcoder: MPEG-TS in (probe, then a bounded queue), one supervised ffmpeg, one fMP4 pipe per
 * rung into its RenditionSink. Every ffmpeg restart and every encoder reconnect is a discontinuity.
 */
export class StreamPipeline {
  /** 'running' covers 'restarting' too: the supervisor knows which of the two it is. */
  private lifecycle: Exclude<PipelineState, 'restarting'> = 'probing';
  private readonly log: PipelineLogger;
  private readonly probe = new InputProbe();
  private readonly queue: InputQueue;
  private readonly supervisor: FfmpegSupervisor;
  /** The running ffmpeg's arrival clock: the wall clock of its media time zero, from PTS and arrival times. */
  private runClock: ArrivalClock | undefined;
  private lastInputAt = 0;
  private readonly sinks = new Map<string, RenditionSink>();
  private rungs: readonly Rung[] = [];
  private path: TranscodePath | null = null;
  private input: PipelineStatus['input'] = null;
  private bytesIn = 0;
  private generation = 0;
  private error: string | null = null;
  private note: string | null = null;
  private audio: 'aac' | null = null;
  private video: 'h264' | 'hevc' = 'h264';
  /** The connection's broadcast: every run of one connection writes under it, a reconnect starts another. */
  private broadcast: string | undefined;

  constructor(private readonly options: PipelineOptions) {
    this.log = options.logger ?? silentLogger;
    this.broadcast = options.broadcast;
    this.queue = new InputQueue(options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES);
    this.supervisor = new FfmpegSupervisor({
      streamId: options.streamId,
      ffmpegPath: options.ffmpegPath,
      hangTimeoutMs: options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS,
      drainTimeoutMs: options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS,
      log: this.log,
      queue: this.queue,
      lastInputAtMs: () => this.lastInputAt,
      prepareRun: () => this.prepareRun(),
      onInputDescribed: (described) => {
        if (this.input) this.input = { ...this.input, ...described };
      },
      onGiveUp: (reason) => this.fail(reason),
    });
  }

  /** MPEG-TS bytes from the SRT socket. Never blocks; over the bound, whole chunks are dropped and counted. */
  write(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.lastInputAt = Date.now();
    if (this.lifecycle === 'error' || this.lifecycle === 'stopped' || this.lifecycle === 'idle') return;
    if (this.lifecycle === 'probing') {
      this.probeWith(chunk, this.lastInputAt);
      return;
    }
    this.enqueue(chunk, this.lastInputAt);
    this.supervisor.inputArrived();
  }

  /** The encoder disconnected: let ffmpeg finish what it has; sinks stay open for a reconnect. */
  endInput(): void {
    if (this.lifecycle === 'error' || this.lifecycle === 'stopped') return;
    this.lifecycle = 'idle';
    this.supervisor.halt();
    this.probe.reset();
    this.supervisor.endInput();
  }

  /**
   * A new encoder connection for the same stream: re-probe and continue with a discontinuity, under the new
   * connection's `broadcast` (its next run restarts the sinks with it).
   */
  async reconnect(broadcast?: string): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    if (broadcast !== undefined) this.broadcast = broadcast;
    this.supervisor.cancelRestart();
    this.queue.clear();
    await this.supervisor.stopProcess();
    this.supervisor.reset();
    this.error = null;
    this.probe.reset();
    this.lifecycle = 'probing';
  }

  /**
   * Drain: ffmpeg flushes its last fragments, then every sink closes its open segment; `handover` when the stream
   * continues on another task (the playlists are not ended).
   */
  async stop(options: EndOptions = {}): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    await this.supervisor.shutdown();
    await Promise.all([...this.sinks.values()].map((s) => s.end(options)));
  }

  status(): PipelineStatus {
    const progress = this.supervisor.progress;
    return {
      state: this.lifecycle === 'running' && this.supervisor.restarting ? 'restarting' : this.lifecycle,
      ...(this.broadcast === undefined ? {} : { broadcast: this.broadcast }),
      path: this.path,
      ladder: this.options.ladder,
      renditions: this.rungs.map((r) => r.name),
      input: this.input,
      bytesIn: this.bytesIn,
      droppedBytes: this.queue.droppedBytes,
      droppedChunks: this.queue.droppedChunks,
      bufferedBytes: this.queue.bytes + this.probe.bufferedBytes,
      restarts: this.supervisor.restarts,
      generation: this.generation,
      encodeFps: progress.fps,
      speed: progress.speed,
      outTimeMs: progress.outTimeMs,
      error: this.error,
      note: this.note,
    };
  }

  /** For tests and diagnostics: the running ffmpeg's pid. */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  private probeWith(chunk: Buffer, atMs: number): void {
    const outcome = this.probe.push(chunk, atMs);
    if (outcome.kind === 'need-more') return;
    if (outcome.kind === 'refused') {
      this.fail(`input refused: ${outcome.reason}`);
      return;
    }
    this.video = outcome.video;
    this.audio = outcome.audio;
    this.input = { video: outcome.video, audio: outcome.audio };
    if (!this.choosePath()) return;
    this.lifecycle = 'running';
    // Each probed chunk keeps its own arrival time: the arrival clock needs them.
    for (const { chunk: bytes, atMs: at } of outcome.chunks) this.enqueue(bytes, at);
    this.supervisor.start();
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
   * The next ffmpeg run for the queued input. The first queued chunk's arrival time is this run's ingest anchor:
   * the packager stamps the run's first output decode time with it (EXT-X-PROGRAM-DATE-TIME).
   */
  private prepareRun(): RunPlan | null {
    const ingestAnchorMs = this.queue.firstArrivalMs;
    if (!this.path || ingestAnchorMs === undefined) return null;
    const clock = new ArrivalClock();
    for (const { chunk, atMs } of this.queue.chunks) clock.observe(chunk, atMs);
    this.runClock = clock;
    // An ffmpeg restart keeps the broadcast (its sinks take the next init version); a reconnect changed it.
    const start: ProducerStart = {
      ingestAnchorMs,
      ingestClock: () => clock.anchorMs(),
      ...(this.broadcast === undefined ? {} : { broadcast: this.broadcast }),
    };
    const profile = this.options.latencyProfile ?? DEFAULT_LATENCY_PROFILE;
    const rungs = this.rungs;
    const targets = (rung: Rung) => renditionTargets(profile, rungs, rung);
    const invocation = buildFfmpegArgs({
      path: this.path,
      input: { video: this.video, audio: this.audio },
      rungs,
      partTargetMs: (rung) => targets(rung).partTargetMs,
      // One segment target across the ladder (the profile has one): keyframes align on every rung.
      segmentTargetMs: PROFILE_TARGETS[profile].segmentMs,
    });
    const firstRun = this.generation === 0 && this.sinks.size === 0;
    this.generation += 1;
    const outputs = invocation.outputs.map(({ rendition, fd }, i) => {
      const sink = this.sinkFor(rendition, start, targets(rungs[i] as Rung));
      return { fd, write: (data: Buffer) => sink.write(data) };
    });
    return {
      args: invocation.args,
      outputs,
      details: {
        path: this.path,
        renditions: invocation.outputs.map((o) => o.rendition),
        discontinuity: !firstRun,
      },
    };
  }

  /** The rendition's sink, opened on the first run and told of the restart on every later one. */
  private sinkFor(rendition: string, start: ProducerStart, targets: RenditionTargets): RenditionSink {
    const existing = this.sinks.get(rendition);
    if (existing) {
      existing.restart(start);
      return existing;
    }
    const sink = this.options.sinks.open(this.options.streamId, rendition, start, targets);
    this.sinks.set(rendition, sink);
    return sink;
  }

  private enqueue(chunk: Buffer, atMs: number): void {
    if (!this.queue.push(chunk, atMs)) return;
    if (this.supervisor.hasProcess) this.runClock?.observe(chunk, atMs);
    this.supervisor.pump();
  }

  private fail(reason: string): void {
    this.error = reason;
    this.lifecycle = 'error';
    this.probe.reset();
    this.queue.clear();
    this.supervisor.abort();
    this.log.error('stream failed', { streamId: this.options.streamId, reason });
    this.options.onFatal?.(reason);
  }
}
