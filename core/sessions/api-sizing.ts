/**
 * The viewer API sized from one figure, the stage's expected concurrent viewers (config `audience.expectedViewers`,
 * decision D27): the request rate viewers make under the heartbeat policy, the HTTP API stage throttle and the
 * session function's reserved concurrency. Pure arithmetic, so infra, the cost model and docs/scale.md print the
 * same numbers. The assumptions are named below; docs/scale.md holds the measured figures behind them.
 */
import { STREAM_LIST_TTL_SECONDS } from '../contracts/stream-list.js';
import { HEARTBEAT } from './heartbeat-policy.js';

/** Focus, layout or stream changes a viewer makes per hour: a wall viewer refocusing every five minutes. */
export const CHANGES_PER_VIEWER_HOUR = 12;
/** Mean viewing session: each one costs a create and an end (DELETE) call. */
export const SESSION_MINUTES = 30;
/**
 * Caches that ask the origin for the shared stream list, each at most once per TTL: CloudFront's regional edge
 * caches (13) collapse their edge locations' misses for custom origins.
 */
export const STREAM_LIST_CACHES = 13;
/** Operator and tooling calls on the same HTTP API stage (control and operator routes). */
export const CONTROL_REQUESTS_PER_SECOND = 50;
/**
 * Billed duration of one session call on Lambda, as sized: bench/sessions.ts measures 0.26-0.30 ms of CPU per
 * heartbeat at a full core; at 512 MB (about 0.29 vCPU) that is about 1 ms, plus four Redis round trips inside the
 * VPC (0.3-1 ms each) and the runtime's overhead: 3-5 ms expected (docs/scale.md). 20 ms leaves room for cold
 * starts and a Redis failover's slow calls.
 */
export const SESSION_CALL_SECONDS = 0.02;
/** The stage throttle admits this much above the expected rate: a reconnect wave after an outage. */
export const RATE_HEADROOM = 1.5;
/** Reserved concurrency above the expected need: slow calls during a Redis failover hold instances longer. */
export const CONCURRENCY_HEADROOM = 2;
/** Floors, so a small stage still takes a page reload storm and a test run. */
export const MIN_RATE_PER_SECOND = 100;
export const MIN_SESSION_CONCURRENCY = 10;

export interface ViewerApiSizing {
  readonly expectedViewers: number;
  /** Requests per viewer-second that reach the API (heartbeats, changes, session start and end). */
  readonly requestsPerViewerSecond: {
    readonly heartbeats: number;
    readonly changes: number;
    readonly sessions: number;
    readonly total: number;
  };
  /** Stream list requests per viewer-second at CloudFront (answered from its cache, billed as requests). */
  readonly streamListPerViewerSecond: number;
  /** Stream list requests per second that reach the API (cache misses, independent of the audience). */
  readonly streamListOriginPerSecond: number;
  /** Session function requests per second at the expected audience. */
  readonly sessionRequestsPerSecond: number;
  /** HTTP API stage throttle: steady rate and burst (requests). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Reserved concurrency of the session function. */
  readonly sessionConcurrency: number;
}

const roundUpTo = (value: number, step: number) => Math.ceil(value / step) * step;

export function viewerApiSizing(expectedViewers: number): ViewerApiSizing {
  const stable = 1000 / HEARTBEAT.stableMs;
  const changesPerSecond = CHANGES_PER_VIEWER_HOUR / 3600;
  // A change is one PATCH, the heartbeat soon after it and the fast ones while the allocation settles.
  const beatsPerChange = 1 + Math.ceil(HEARTBEAT.settleMs / HEARTBEAT.fastMs);
  const heartbeats = stable + changesPerSecond * beatsPerChange;
  const changes = changesPerSecond;
  const sessions = 2 / (SESSION_MINUTES * 60);
  const total = heartbeats + changes + sessions;
  const streamListOriginPerSecond = STREAM_LIST_CACHES / STREAM_LIST_TTL_SECONDS;
  const sessionRequestsPerSecond = expectedViewers * total + streamListOriginPerSecond;
  const rateLimit = Math.max(
    MIN_RATE_PER_SECOND,
    roundUpTo((sessionRequestsPerSecond + CONTROL_REQUESTS_PER_SECOND) * RATE_HEADROOM, 10),
  );
  return {
    expectedViewers,
    requestsPerViewerSecond: { heartbeats, changes, sessions, total },
    streamListPerViewerSecond: 1000 / HEARTBEAT.streamListMs,
    streamListOriginPerSecond,
    sessionRequestsPerSecond,
    // API Gateway's burst is a bucket depth in requests: two seconds at the steady rate.
    throttle: { rateLimit, burstLimit: 2 * rateLimit },
    sessionConcurrency: Math.max(
      MIN_SESSION_CONCURRENCY,
      roundUpTo(sessionRequestsPerSecond * SESSION_CALL_SECONDS * CONCURRENCY_HEADROOM, 10),
    ),
  };
}
