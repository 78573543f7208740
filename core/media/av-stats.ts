/**
 * A/V sync and GOP statistics of one input (decision D42): pure, bounded figures from the PTS/DTS of the input's
 * PES packets and their arrival times. The MPEG-TS parsing that feeds it lives in the ingest (ts-analyzer.ts).
 *
 * Definitions (the numbers an operator reads, so they are exact):
 * - A/V offset: audio PTS minus video PTS of media that arrives together, ms. Each stream's timeline is mapped to
 *   the arrival clock by its promptest PES in a one-second bucket (max of pts - arrival: the packet least delayed by
 *   the encoder's muxer or the network, as ArrivalClock does); the offset is the difference of the two mappings.
 *   Positive: the audio's timestamps are ahead of the video's, so players play the sound late. An audio PES maps
 *   the end of its media (the next audio PES's PTS), since muxers send one only when it is full.
 * - A/V drift: least-squares slope of those per-second offsets over the last OFFSET_WINDOW seconds, ms per minute.
 * - Start offset: first audio PTS minus first video PTS of the connection, ms (what an encoder's audio delay or an
 *   `-itsoffset` shows even through a muxer that interleaves by DTS, which hides it from the arrival mapping).
 * - GOP: ms from one keyframe's PTS to the next, and that in frames (over the median frame interval: presentation
 *   order, so B-frames do not skew it); regularity as min, max and standard deviation of the frame counts over the
 *   last GOP_WINDOW GOPs.
 * - B-frames: some frame had PTS != DTS (reordering) in the last FRAME_WINDOW frames.
 * - Frame rate: 1000 / mean DTS interval; stability as the standard deviation of DTS intervals (timestamp jitter)
 *   and of the arrival delay (arrival - DTS, network and encoder jitter), both over the last FRAME_WINDOW frames.
 */
import * as z from '../zod.js';

export const PTS_TICKS_PER_MS = 90;
/** PTS and DTS are 33-bit fields (wrap every 26.5 h). */
export const PTS_WRAP = 2 ** 33;
/** GOPs kept for the regularity figures. */
export const GOP_WINDOW = 32;
/** Video frames kept for frame rate, jitter and B-frame detection (10 s at 30 fps). */
export const FRAME_WINDOW = 300;
/** Per-second offset samples kept for the drift slope: 2 minutes. */
export const OFFSET_WINDOW = 120;
/** Offset bucket length: the promptest packet of each stream within it maps the stream to the arrival clock. */
export const OFFSET_BUCKET_MS = 1000;
/** The reported offset is the median of this many latest buckets (one late bucket moves nothing). */
const OFFSET_MEDIAN_OF = 5;
/** No drift is reported from fewer seconds than this: a slope over a few noisy samples means nothing. */
const MIN_DRIFT_SAMPLES = 10;

export interface GopStats {
  readonly frames: number;
  readonly ms: number;
  readonly minFrames: number;
  readonly maxFrames: number;
  readonly stddevFrames: number;
  /** GOPs the figures cover. */
  readonly count: number;
}

export interface AvStatsSnapshot {
  readonly avOffsetMs: number | null;
  readonly avDriftMsPerMin: number | null;
  readonly startOffsetMs: number | null;
  readonly gop: GopStats | null;
  readonly bFrames: boolean;
  readonly fps: number | null;
  readonly frameIntervalJitterMs: number | null;
  readonly arrivalJitterMs: number | null;
  readonly continuityErrors: number;
  readonly videoFrames: number;
  readonly audioPackets: number;
}

/**
 * The figures in the stream status (`input.stats`) and its API schema: the snapshot plus the ingest queue's
 * occupancy (bytes between the socket and the transcoder, and that as a percent of its bound). A factory built on
 * first use (decision D48): the schemas that spread it are lazy, so no function builds it at cold start.
 */
export const inputStatsShape = z.once(() => ({
  avOffsetMs: z.nullable(z.number()),
  avDriftMsPerMin: z.nullable(z.number()),
  startOffsetMs: z.nullable(z.number()),
  gop: z.nullable(
    z.object({
      frames: z.number(),
      ms: z.number(),
      minFrames: z.number(),
      maxFrames: z.number(),
      stddevFrames: z.number(),
      count: z.number(),
    }),
  ),
  bFrames: z.boolean(),
  fps: z.nullable(z.number()),
  frameIntervalJitterMs: z.nullable(z.number()),
  arrivalJitterMs: z.nullable(z.number()),
  continuityErrors: z.number(),
  videoFrames: z.number(),
  audioPackets: z.number(),
  queueBytes: z.optional(z.number()),
  queuePercent: z.optional(z.number()),
}));

/** A bounded FIFO: the oldest value goes when full. */
class Window<T> {
  readonly items: T[] = [];
  constructor(private readonly max: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.max) this.items.shift();
  }
  clear(): void {
    this.items.length = 0;
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function stddev(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export class AvStats {
  /** Unwrapping reference: ticks are kept relative to the first timestamp seen on any stream. */
  private origin: number | undefined;
  private lastRel = 0;
  private firstVideoMs: number | undefined;
  private firstAudioMs: number | undefined;
  private readonly frames = new Window<{ dtsMs: number; reordered: boolean; delayMs: number }>(FRAME_WINDOW);
  private readonly gops = new Window<{ frames: number; ms: number }>(GOP_WINDOW);
  private lastKey: { ptsMs: number; frame: number } | undefined;
  private videoCount = 0;
  private audioCount = 0;
  private continuity = 0;
  private lastAudio: { atMs: number } | undefined;
  private bucket: { startMs: number; video?: number; audio?: number } | undefined;
  private readonly offsets = new Window<{ x: number; y: number }>(OFFSET_WINDOW);

  /** One video frame (one PES): PTS and DTS in 90 kHz ticks (DTS absent when equal to PTS). */
  video(ptsTicks: number, dtsTicks: number | undefined, keyframe: boolean, atMs: number): void {
    const ptsMs = this.toMs(ptsTicks);
    const dtsMs = dtsTicks === undefined ? ptsMs : this.toMs(dtsTicks);
    this.firstVideoMs ??= ptsMs;
    this.frames.push({
      dtsMs,
      reordered: dtsTicks !== undefined && dtsTicks !== ptsTicks,
      delayMs: atMs - dtsMs,
    });
    if (keyframe) {
      if (this.lastKey) {
        const ms = ptsMs - this.lastKey.ptsMs;
        const interval = this.medianInterval();
        // In presentation order: with B-frames an encoder sends the keyframe ahead of the frames shown before it,
        // so counting frames in decode order (libx265 keyint=15: 13, then 17) misreads a regular GOP.
        const frames = interval > 0 ? Math.round(ms / interval) : this.videoCount - this.lastKey.frame;
        this.gops.push({ frames, ms });
      }
      this.lastKey = { ptsMs, frame: this.videoCount };
    }
    this.videoCount += 1;
    this.arrival('video', ptsMs, atMs);
  }

  /** One audio PES: its PTS in 90 kHz ticks. */
  audio(ptsTicks: number, atMs: number): void {
    const ptsMs = this.toMs(ptsTicks);
    this.firstAudioMs ??= ptsMs;
    this.audioCount += 1;
    // A muxer packs several audio frames into one PES (ffmpeg: about 0.3 s) and sends it when full: the PES that
    // arrived last carries media up to this one's PTS, so that is what its arrival maps (else the offset would
    // read the packing delay as an A/V offset).
    if (this.lastAudio) this.arrival('audio', ptsMs, this.lastAudio.atMs);
    this.lastAudio = { atMs };
  }

  /** An MPEG-TS continuity counter jumped (lost or reordered packets). */
  continuityError(): void {
    this.continuity += 1;
  }

  snapshot(): AvStatsSnapshot {
    const frames = this.frames.items;
    const intervals: number[] = [];
    for (let i = 1; i < frames.length; i++) intervals.push(frames[i]!.dtsMs - frames[i - 1]!.dtsMs);
    const meanInterval = intervals.length > 0 ? mean(intervals) : 0;
    const gops = this.gops.items;
    const gopFrames = gops.map((g) => g.frames);
    const offsets = this.offsets.items;
    return {
      avOffsetMs:
        offsets.length > 0 ? round1(median(offsets.slice(-OFFSET_MEDIAN_OF).map((o) => o.y))) : null,
      avDriftMsPerMin: offsets.length >= MIN_DRIFT_SAMPLES ? round1(slope(offsets) * 60_000) : null,
      startOffsetMs:
        this.firstAudioMs === undefined || this.firstVideoMs === undefined
          ? null
          : round1(this.firstAudioMs - this.firstVideoMs),
      gop:
        gops.length === 0
          ? null
          : {
              frames: gops.at(-1)!.frames,
              ms: round1(gops.at(-1)!.ms),
              minFrames: Math.min(...gopFrames),
              maxFrames: Math.max(...gopFrames),
              stddevFrames: round1(stddev(gopFrames)),
              count: gops.length,
            },
      bFrames: frames.some((f) => f.reordered),
      fps: meanInterval > 0 ? Math.round((1000 / meanInterval) * 100) / 100 : null,
      frameIntervalJitterMs: intervals.length > 0 ? round1(stddev(intervals)) : null,
      arrivalJitterMs: frames.length > 1 ? round1(stddev(frames.map((f) => f.delayMs))) : null,
      continuityErrors: this.continuity,
      videoFrames: this.videoCount,
      audioPackets: this.audioCount,
    };
  }

  /** The median DTS interval of the last frames (one gap, for example at a splice, moves it nothing), ms. */
  private medianInterval(): number {
    const frames = this.frames.items.slice(-31);
    const intervals: number[] = [];
    for (let i = 1; i < frames.length; i++) intervals.push(frames[i]!.dtsMs - frames[i - 1]!.dtsMs);
    return intervals.length > 0 ? median(intervals) : 0;
  }

  /** Ticks to ms on one unwrapped timeline shared by both streams (the 33-bit rollover either way). */
  private toMs(ticks: number): number {
    this.origin ??= ticks;
    let rel = ticks - this.origin;
    // Closest unwrapped value to the last one: a wrap shows as a jump of about 2^33.
    const turns = Math.round((this.lastRel - rel) / PTS_WRAP);
    rel += turns * PTS_WRAP;
    this.lastRel = rel;
    return rel / PTS_TICKS_PER_MS;
  }

  private arrival(kind: 'video' | 'audio', ptsMs: number, atMs: number): void {
    if (this.bucket && atMs - this.bucket.startMs >= OFFSET_BUCKET_MS) {
      const { video, audio, startMs } = this.bucket;
      if (video !== undefined && audio !== undefined) this.offsets.push({ x: startMs, y: audio - video });
      this.bucket = undefined;
    }
    this.bucket ??= { startMs: atMs };
    const lead = ptsMs - atMs;
    this.bucket[kind] = Math.max(this.bucket[kind] ?? lead, lead);
  }
}
