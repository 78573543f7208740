import { thumbnailPath } from '../../../../core/contracts/names.js';
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
import { THUMBNAIL_WIDTHS, type ThumbnailSink, thumbnailOutputs } from '../thumbnails.js';
import { ArrivalClock } from './arrival-clock.js';
import { buildFfmpegArgs, type TranscodePath } from './ffmpeg-args.js';
import { DRAIN_TIMEOUT_MS, FfmpegSupervisor, type RunPlan } from './ffmpeg-supervisor.js';
import { chooseEncodePath, type GpuMode, type GpuProbe } from './gpu.js';
import { InputProbe } from './input-probe.js';
import { InputQueue } from './input-queue.js';
import type { InputDescription } from './progress.js';
import { SlateSource, slateFor } from './slate.js';

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
  /** Opened paused (decision D32: the stream record says so): viewers get the slate from the first admitted byte. */
  readonly paused?: boolean;
  /** Where the stream's thumbnails go (decision D41): extra outputs of the same ffmpeg. None without it. */
  readonly thumbnails?: ThumbnailSink;
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
  /** Viewers get the slate; the encoder's bytes are counted (bytesIn) and dropped (decision D32). */
  readonly paused?: boolean;
  /** Where this stream's latest picture is (decision D41), while ffmpeg runs with thumbnail outputs. */
  readonly thumbnailUrl?: string;
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
  /** Operator pause (decision D32): the slate stands in for the encoder's input. */
  private paused: boolean;
  /**
   * A switch of source (pause, resume, restart) is stopping the running ffmpeg: bytes of either source are
   * dropped until the next run can start from a fresh probe, so no run gets a mix of both.
   */
  private get switching(): boolean {
    return this.pendingSwitches > 0;
  }
  /** Switches queued or running: one at a time (two at once would leave two ffmpeg runs), in order. */
  private pendingSwitches = 0;
  private switches: Promise<void> = Promise.resolve();
  private readonly slate: SlateSource;
  /** Whether the encoder's input has audio, from its last probe: the slate matches its tracks. */
  private encoderAudio: boolean | undefined;
  /**
   * The session admitted the connection (its first byte came, or a reconnect was admitted): before that the lease
   * may be another task's, and no slate may publish.
   */
  private admitted = false;

  constructor(private readonly options: PipelineOptions) {
    this.log = options.logger ?? silentLogger;
    this.broadcast = options.broadcast;
    this.paused = options.paused === true;
    this.slate = new SlateSource({
      streamId: options.streamId,
      ffmpegPath: options.ffmpegPath,
      log: this.log,
      onData: (chunk) => {
        if (!this.paused || this.switching) return;
        this.lastInputAt = Date.now();
        this.feed(chunk, this.lastInputAt);
      },
      onLost: () => {
        if (this.paused && !this.switching) void this.switchSource();
      },
    });
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
    this.admitted = true;
    if (this.paused) {
      // The first admitted byte of a stream opened paused: the slate starts now, never before admission.
      if (!this.switching && !this.slate.running && this.lifecycle === 'probing') this.startSlate();
      return;
    }
    if (this.switching) return;
    this.feed(chunk, this.lastInputAt);
  }

  /** Bytes of the current source (the encoder, or the slate while paused) into the probe or the queue. */
  private feed(chunk: Buffer, atMs: number): void {
    if (this.lifecycle === 'error' || this.lifecycle === 'stopped' || this.lifecycle === 'idle') return;
    if (this.lifecycle === 'probing') {
      this.probeWith(chunk, atMs);
      return;
    }
    this.enqueue(chunk, atMs);
    this.supervisor.inputArrived();
  }

  /**
   * Pause (true) or resume (false), decision D32: the running ffmpeg stops, and the next run takes the slate (or the
   * encoder's input again, from its next keyframe) under the same broadcast: a discontinuity. False when already so.
   * While no encoder is connected it only records the wish: the next connection starts that way.
   */
  async setPaused(paused: boolean): Promise<boolean> {
    if (this.paused === paused) return false;
    this.paused = paused;
    if (!paused) this.slate.stop();
    if (this.lifecycle === 'probing' || this.lifecycle === 'running') await this.switchSource();
    return true;
  }

  /**
   * Operator restart: a fresh ffmpeg run of the same source, under the same broadcast (the encoder stays connected),
   * with a discontinuity. False when no encoder is connected (nothing runs to restart).
   */
  async restart(): Promise<boolean> {
    if (this.lifecycle !== 'probing' && this.lifecycle !== 'running') return false;
    this.log.info('transcode restart requested', { streamId: this.options.streamId });
    await this.switchSource();
    return true;
  }

  /** Stops the running ffmpeg and starts over from a probe of the current source (the slate when paused). */
  private switchSource(): Promise<void> {
    return this.serially(async () => {
      // Unless the encoder left (idle), the stream failed or stopped meanwhile.
      if (this.lifecycle !== 'running' && this.lifecycle !== 'probing') return;
      await this.startOver();
      if (this.lifecycle !== 'running' && this.lifecycle !== 'probing') return;
      this.lifecycle = 'probing';
    });
  }

  /**
   * Runs a switch after those before it; bytes of either source are dropped until the last one queued is done,
   * which starts the slate if the stream is paused then.
   */
  private serially(step: () => Promise<void>): Promise<void> {
    this.pendingSwitches += 1;
    this.slate.stop();
    const run = this.switches.then(step).finally(() => {
      this.pendingSwitches -= 1;
      if (this.pendingSwitches > 0 || !this.paused || !this.admitted) return;
      if (this.lifecycle === 'probing') this.startSlate();
    });
    this.switches = run.catch(() => {});
    return run;
  }

  /** The next run starts from a fresh probe: pending restart cancelled, queue dropped, ffmpeg drained. */
  private async startOver(): Promise<void> {
    this.supervisor.cancelRestart();
    this.queue.clear();
    await this.supervisor.stopProcess();
    this.supervisor.reset();
    this.error = null;
    this.probe.reset();
  }

  /** The slate at the input's size and frame rate, with its tracks (decision D32). */
  private startSlate(): void {
    const profile = this.options.latencyProfile ?? DEFAULT_LATENCY_PROFILE;
    this.slate.start(slateFor(this.input, this.encoderAudio, PROFILE_TARGETS[profile].segmentMs));
  }

  /** The encoder disconnected: let ffmpeg finish what it has; sinks stay open for a reconnect. */
  endInput(): void {
    this.slate.stop();
    this.admitted = false;
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
  reconnect(broadcast?: string): Promise<void> {
    if (this.lifecycle === 'stopped') return Promise.resolve();
    if (broadcast !== undefined) this.broadcast = broadcast;
    return this.serially(async () => {
      if (this.lifecycle === 'stopped') return;
      await this.startOver();
      this.lifecycle = 'probing';
      this.admitted = true;
    });
  }

  /**
   * Drain: ffmpeg flushes its last fragments, then every sink closes its open segment; `handover` when the stream
   * continues on another task (the playlists are not ended).
   */
  async stop(options: EndOptions = {}): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    this.slate.stop();
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
      paused: this.paused,
      ...(this.options.thumbnails &&
      (this.options.thumbnails.showing?.() ?? true) &&
      this.lifecycle === 'running'
        ? { thumbnailUrl: this.options.thumbnails.path?.() ?? thumbnailPath(this.options.streamId) }
        : {}),
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
    if (this.paused && this.path !== null) {
      // The slate keeps the ladder the encoder's input chose: the renditions (and their names) stay the same.
      this.lifecycle = 'running';
      for (const { chunk: bytes, atMs: at } of outcome.chunks) this.enqueue(bytes, at);
      this.supervisor.start();
      return;
    }
    if (!this.paused) this.encoderAudio = outcome.audio !== null;
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
      thumbnailWidths: this.options.thumbnails ? THUMBNAIL_WIDTHS : [],
    });
    const firstRun = this.generation === 0 && this.sinks.size === 0;
    this.generation += 1;
    const outputs = invocation.outputs.map(({ rendition, fd }, i) => {
      const sink = this.sinkFor(rendition, start, targets(rungs[i] as Rung));
      return { fd, write: (data: Buffer) => sink.write(data) };
    });
    return {
      args: invocation.args,
      outputs: [...outputs, ...thumbnailOutputs(this.options.thumbnails, invocation.thumbnails)],
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
    this.slate.stop();
    this.error = reason;
    this.lifecycle = 'error';
    this.probe.reset();
    this.queue.clear();
    this.supervisor.abort();
    this.log.error('stream failed', { streamId: this.options.streamId, reason });
    this.options.onFatal?.(reason);
  }
}
