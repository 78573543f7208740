/**
 * Live catch-up: plays a little faster while a live player sits further behind the live edge than
 * its target latency, so the delay picked up at start-up or after a stall does not stay for good.
 *
 * hls.js has its own rate control (`maxLiveSyncPlaybackRate`), but it acts only with more than one
 * second buffered ahead of the playhead: at LL-HLS targets (0.5 s behind the edge) there never is,
 * so it never engages. Players using this must set `maxLiveSyncPlaybackRate: 1`, or hls.js resets
 * the rate to 1 on every timeupdate.
 */

/**
 * Retries of a failed load (an HTTP error other than 4xx, or no answer) in hls.js 1.7's shape: 250 ms, 500 ms, then
 * every second, 58 times: about a minute of waits, plus the failed requests' own time (docs/operations.md "Fault
 * suite"). hls.js's defaults give up on a live playlist after 2 retries (1 s then 2 s apart): a Redis restart or a
 * few seconds of S3 trouble, which the manifest answers 503 + Retry-After, ended playback with a fatal error. Short
 * delays first so a blip costs a part or two, capped at 1 s (Retry-After: 1): the cap is how long a player may
 * still wait once the stream is back, and the fault suite measured 2.5 s from playlist to player at a 2 s cap after
 * an ingest restart. Retrying players cost the origin nothing more: the edge caches a 503 for 1 s.
 * 4xx answers are still not retried (hls.js's rule): a stream that is gone for good fails at once.
 */
export const LIVE_ERROR_RETRY = {
  maxNumRetry: 60,
  retryDelayMs: 250,
  maxRetryDelayMs: 1000,
  backoff: 'exponential',
} as const;

/**
 * Retries of a load that timed out. Each attempt already waited its whole timeout (10 s to the first byte), so
 * six more cover a minute without a first byte.
 */
export const LIVE_TIMEOUT_RETRY = {
  maxNumRetry: 6,
  retryDelayMs: 250,
  maxRetryDelayMs: 2000,
  backoff: 'exponential',
} as const;

/** One hls.js load policy with the live retries; the timeouts are hls.js 1.7's defaults for that kind of load. */
const livePolicy = (maxTimeToFirstByteMs: number, maxLoadTimeMs: number) =>
  ({
    default: {
      maxTimeToFirstByteMs,
      maxLoadTimeMs,
      timeoutRetry: LIVE_TIMEOUT_RETRY,
      errorRetry: LIVE_ERROR_RETRY,
    },
  }) as const;

/**
 * hls.js settings every Mirror live player uses with catch-up: its own rate control off, and a stall
 * raising the target latency by one part (100 ms), not hls.js's default whole second, which after a
 * single stall would keep a 0.5 s target at 1.5 s for the rest of the session. The load policies ride out
 * about a minute of origin trouble (LIVE_ERROR_RETRY). Plain data only: the latency harness and the fault
 * suite hand it to a page as JSON, so no `shouldRetry` function.
 */
export const LIVE_HLS_CONFIG = {
  lowLatencyMode: true,
  maxLiveSyncPlaybackRate: 1,
  liveSyncOnStallIncrease: 0.1,
  // hls.js 1.7's timeouts, except the multivariant playlist's first byte (no limit by default): the manifest function
  // answers it without waiting, and a finite limit survives the JSON trip (Infinity would not).
  manifestLoadPolicy: livePolicy(10_000, 20_000),
  playlistLoadPolicy: livePolicy(10_000, 20_000),
  fragLoadPolicy: livePolicy(10_000, 120_000),
} as const;

/**
 * Seconds behind the live edge a player aims for beyond the playlist's PART-HOLD-BACK: room for two
 * parts of jitter (a busy machine, a slow blocking response). 10-minute bench at PART-HOLD-BACK 0.3 s:
 * 0.3 s target gave a stall at start, 0.5 s none (docs/local.md).
 */
export const LIVE_TARGET_SLACK_S = 0.2;

/**
 * The target latency for a media playlist's PART-HOLD-BACK (seconds), or undefined when there is none or it is the
 * target already applied (`appliedS`). The levels of one stream may differ in part duration (decision D28: a `wall`
 * stream's tile rung has long parts, its full-size rungs short ones), so the target follows the level loaded rather
 * than the first one seen: a tile brought into focus switches to a short-part level and its target drops from
 * 1.4 s to 0.6 s. Applied only on a change, since setting hls.js's target also forgets its stall count.
 */
export function liveTargetFor(partHoldBackS: number, appliedS: number | undefined): number | undefined {
  if (!(partHoldBackS > 0)) return undefined;
  const target = partHoldBackS + LIVE_TARGET_SLACK_S;
  return appliedS !== undefined && Math.abs(target - appliedS) < 0.001 ? undefined : target;
}

export interface CatchUpPolicy {
  /** Fastest rate; browsers keep the audio pitch-corrected, and 1.25x is hard to notice. */
  readonly maxRate: number;
  /** Latency above the target (s) tolerated before speeding up. */
  readonly startAboveS: number;
  /** Once speeding up, keep going until within this much of the target (s): no flapping at the threshold. */
  readonly stopAboveS: number;
  /** Rate added per second of excess latency. */
  readonly gainPerS: number;
  /** Playing faster drains the buffer: never speed up with less than this buffered ahead (s). */
  readonly minBufferAheadS: number;
}

export const DEFAULT_CATCH_UP: CatchUpPolicy = {
  maxRate: 1.25,
  startAboveS: 0.1,
  stopAboveS: 0.03,
  gainPerS: 0.5,
  minBufferAheadS: 0.2,
};

export interface CatchUpState {
  /** Seconds behind the live edge now. */
  readonly latencyS: number;
  /** Seconds behind the live edge wanted. */
  readonly targetS: number;
  /** Seconds buffered ahead of the playhead (contiguous). */
  readonly bufferAheadS: number;
  /** The playback rate now. */
  readonly rate: number;
}

/** The playback rate for this moment: 1, or a little faster while too far behind and enough is buffered. */
export function catchUpRate(state: CatchUpState, policy: CatchUpPolicy = DEFAULT_CATCH_UP): number {
  const excess = state.latencyS - state.targetS;
  if (!Number.isFinite(excess) || state.bufferAheadS < policy.minBufferAheadS) return 1;
  const threshold = state.rate > 1 ? policy.stopAboveS : policy.startAboveS;
  if (excess <= threshold) return 1;
  // Steps of 0.05: fewer rate changes, each of which costs the media pipeline a little.
  const rate = Math.round((1 + excess * policy.gainPerS) * 20) / 20;
  return Math.min(policy.maxRate, Math.max(1.05, rate));
}

/** Seconds buffered contiguously ahead of `time` (0 when the playhead is outside every range). */
export function bufferedAhead(buffered: TimeRanges, time: number): number {
  for (let i = 0; i < buffered.length; i++) {
    // A small tolerance: the playhead often sits a few ms before the start of the first range.
    if (buffered.start(i) - 0.1 <= time && time <= buffered.end(i)) return buffered.end(i) - time;
  }
  return 0;
}

/** What catch-up needs of an hls.js instance. */
export interface LivePlayer {
  /** Seconds behind the live edge (hls.js: 0 until known). */
  readonly latency: number;
  /** Seconds behind the live edge hls.js aims for (it grows after stalls), null before a playlist. */
  readonly targetLatency: number | null;
}

/** Runs catch-up on every timeupdate of `video`; returns a function that stops it and resets the rate. */
export function attachLiveCatchUp(
  player: LivePlayer,
  video: HTMLMediaElement,
  policy: CatchUpPolicy = DEFAULT_CATCH_UP,
): () => void {
  const onTimeUpdate = () => {
    const targetS = player.targetLatency;
    if (video.paused || targetS === null || !(player.latency > 0)) return;
    const rate = catchUpRate(
      {
        latencyS: player.latency,
        targetS,
        bufferAheadS: bufferedAhead(video.buffered, video.currentTime),
        rate: video.playbackRate,
      },
      policy,
    );
    if (rate !== video.playbackRate) video.playbackRate = rate;
  };
  video.addEventListener('timeupdate', onTimeUpdate);
  return () => {
    video.removeEventListener('timeupdate', onTimeUpdate);
    video.playbackRate = 1;
  };
}
