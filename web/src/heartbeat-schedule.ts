// When the viewer calls the session API next (decision D27): pure decisions, the calls themselves are in
// viewer/session-wall.ts. Heartbeats follow the interval the API answers (frequent while the allocation is
// changing, rare once it has settled), come early when a tile stalls, and a failed call is retried with
// exponential backoff and jitter, forever: a viewer whose API was unreachable for a while carries on once it is back.
import { HEARTBEAT } from '../../core/sessions/heartbeat-policy.js';

/** A source of numbers in [0, 1): Math.random in the page, fixed sequences in tests. */
export type Random = () => number;

export interface RetryPolicy {
  /** First retry's ceiling; doubles per consecutive failure. */
  readonly retryBaseMs: number;
  /** The ceiling stops doubling here. */
  readonly retryCapMs: number;
}

export interface SchedulePolicy extends RetryPolicy {
  readonly afterChangeMs: number;
  readonly fastMs: number;
  readonly stableMs: number;
  /** Every interval is spread by +- this share. */
  readonly jitterRatio: number;
}

/** `ms` spread uniformly over [ms x (1 - ratio), ms x (1 + ratio)). */
export function jittered(ms: number, ratio: number, random: Random): number {
  return ms * (1 - ratio + 2 * ratio * random());
}

/**
 * The wait before retry number `failures` (1 = the first): a ceiling of base x 2^(failures - 1), capped, and a wait
 * drawn from its upper half ("equal jitter": never sooner than half the ceiling, so a failing API is not hammered,
 * and spread over the other half, so viewers cut off together do not come back together).
 */
export function backoffMs(failures: number, policy: RetryPolicy, random: Random): number {
  // The exponent is bounded so a viewer failing for days never computes Infinity.
  const ceiling = Math.min(
    policy.retryCapMs,
    policy.retryBaseMs * 2 ** Math.min(Math.max(0, failures - 1), 30),
  );
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Consecutive failures of one kind of call, and the wait each one earns. */
export class Backoff {
  #failures = 0;

  constructor(
    private readonly policy: RetryPolicy = HEARTBEAT,
    private readonly random: Random = Math.random,
  ) {}

  get failures(): number {
    return this.#failures;
  }

  /** One more failure: the wait before the next try. */
  failed(): number {
    this.#failures++;
    return backoffMs(this.#failures, this.policy, this.random);
  }

  succeeded(): void {
    this.#failures = 0;
  }
}

/** The heartbeat timer's decisions; each returns the delay (ms) from `nowMs` to the next heartbeat. */
export class HeartbeatSchedule {
  readonly #backoff: Backoff;
  #dueAtMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly policy: SchedulePolicy = HEARTBEAT,
    private readonly random: Random = Math.random,
  ) {
    this.#backoff = new Backoff(policy, random);
  }

  get failures(): number {
    return this.#backoff.failures;
  }

  /** The viewer changed the wall (or the session was created): tell the allocator the tile sizes soon. */
  afterChange(nowMs: number): number {
    return this.#due(nowMs, this.policy.afterChangeMs);
  }

  /**
   * An answer: the interval the API asked for, held within [fast, stable] (a broken answer neither spins the
   * loop nor silences it past the session's TTL), jittered. Failures are forgotten.
   */
  afterAnswer(nowMs: number, intervalMs: number): number {
    this.#backoff.succeeded();
    const interval = Math.min(this.policy.stableMs, Math.max(this.policy.fastMs, intervalMs || 0));
    return this.#due(nowMs, jittered(interval, this.policy.jitterRatio, this.random));
  }

  /** A failed call (network error, 5xx, 429): the next try after the backoff. */
  afterFailure(nowMs: number): number {
    return this.#due(nowMs, this.#backoff.failed());
  }

  /**
   * A tile stalled: the allocator should hear of it within the fast interval rather than at the next rare beat.
   * Undefined when nothing changes: the beat is due sooner anyway, or calls are failing (the backoff stands, so
   * stalls during an outage do not turn into a storm of calls).
   */
  onTrouble(nowMs: number): number | undefined {
    if (this.#backoff.failures > 0 || this.#dueAtMs - nowMs <= this.policy.fastMs) return undefined;
    return this.#due(nowMs, this.policy.fastMs);
  }

  #due(nowMs: number, delayMs: number): number {
    this.#dueAtMs = nowMs + delayMs;
    return delayMs;
  }
}
