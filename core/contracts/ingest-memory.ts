/**
 * The ingest container's memory budget, one fact on both sides of a boundary: the Ingest construct sets the
 * container's hard limit from it and binds the per-stream input buffer (MIRROR_MAX_BUFFER_MB) it assumed, and the
 * ingest process bounds its buffers with the same figures. A stream can then never take more than its share, and
 * the kernel's OOM killer (at the hard limit) only ever meets a process that broke its own bounds.
 *
 * Figures in MiB (the ingest service multiplies MIRROR_MAX_BUFFER_MB by 1024 * 1024).
 */

/** The input buffer between socket and ffmpeg (InputQueue) when memory allows: over a minute of a 50 Mbps feed. */
export const DEFAULT_INPUT_BUFFER_MIB = 400;
/** The smallest input buffer worth running: about 10 s of a 50 Mbps feed, enough to ride out an ffmpeg restart. */
export const MIN_INPUT_BUFFER_MIB = 64;
/** Bytes per connection the SRT listener may have queued towards JavaScript (containers/ingest/src/srt). */
export const SRT_EVENT_QUEUE_MIB = 16;
/** libsrt's own receive buffer per connection: SRTO_RCVBUF's default of 8192 packets of 1500 bytes. */
export const SRT_RECEIVE_BUFFER_MIB = 12;
/** Bytes held while the publisher lease is taken (containers/ingest/src/service/sessions.ts). */
export const PRE_LEASE_HOLD_MIB = 8;
/**
 * Resident memory of one stream's ffmpeg. Measured: 154 MiB for 1080p30 H.264 in, the full ladder (1080p, 720p,
 * 360p) out through libx264 zerolatency (no lookahead). The NVENC path adds the CUDA context's host mappings (a few
 * hundred MiB; no GPU here to measure) and HEVC or 4K input more decoded frames in flight: 512 covers both.
 */
export const FFMPEG_WORKING_SET_MIB = 512;
/** The Node process itself: V8 heap, packagers, Redis and S3 clients, the addon. */
export const PROCESS_BASE_MIB = 512;

/** Memory one stream may use besides its input buffer. */
export const STREAM_OVERHEAD_MIB =
  SRT_EVENT_QUEUE_MIB + SRT_RECEIVE_BUFFER_MIB + PRE_LEASE_HOLD_MIB + FFMPEG_WORKING_SET_MIB;

export interface IngestMemoryPlan {
  /** Container hard limit (ECS `memory`): every stream at its bounds, plus the process. */
  readonly limitMiB: number;
  /** Container soft limit (ECS `memoryReservation`): the process and every ffmpeg, input buffers empty. */
  readonly reservationMiB: number;
  /** Per-stream input buffer bound the limit assumes (MIRROR_MAX_BUFFER_MB). */
  readonly inputBufferMiB: number;
}

/**
 * The container limits for `streams` streams on a task that may use at most `ceilingMiB`:
 * limit = base + streams x (input buffer + overhead), with the input buffer DEFAULT_INPUT_BUFFER_MIB if that fits
 * under the ceiling, else shrunk to what fits, else an error (the task cannot hold that many streams).
 */
export function planIngestMemory(streams: number, ceilingMiB: number): IngestMemoryPlan {
  if (!Number.isInteger(streams) || streams < 1)
    throw new Error(`streams must be a positive integer, got ${streams}`);
  const perStreamRoom = Math.floor((ceilingMiB - PROCESS_BASE_MIB) / streams) - STREAM_OVERHEAD_MIB;
  const inputBufferMiB = Math.min(DEFAULT_INPUT_BUFFER_MIB, perStreamRoom);
  if (inputBufferMiB < MIN_INPUT_BUFFER_MIB) {
    const needed = PROCESS_BASE_MIB + streams * (MIN_INPUT_BUFFER_MIB + STREAM_OVERHEAD_MIB);
    throw new Error(
      `${streams} streams need at least ${needed} MiB (${PROCESS_BASE_MIB} + ${streams} x (${MIN_INPUT_BUFFER_MIB} input + ${STREAM_OVERHEAD_MIB})); a task may use ${ceilingMiB} MiB`,
    );
  }
  return {
    limitMiB: PROCESS_BASE_MIB + streams * (inputBufferMiB + STREAM_OVERHEAD_MIB),
    reservationMiB: PROCESS_BASE_MIB + streams * FFMPEG_WORKING_SET_MIB,
    inputBufferMiB,
  };
}
