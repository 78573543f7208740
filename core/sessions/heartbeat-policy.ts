/**
 * How often a viewer calls the session API (decision D27): one policy read by the session function (the interval
 * it answers), the viewer (web/src/heartbeat-schedule.ts), the API sizing (core/sessions/api-sizing.ts) and the
 * session TTL (core/adapters/sessions/store.ts), so the rate the API is sized for is the rate viewers make.
 *
 * A heartbeat reports bandwidth, tile sizes and dropped frames; the allocator answers each tile's rendition. It
 * matters while the answer is moving (a new session, a focus change, an upgrade the measured bandwidth allows); a
 * settled wall changes nothing for minutes. So heartbeats are frequent for a short while after the allocation
 * last changed and rare otherwise: about 0.033 heartbeats per viewer-second instead of 0.2, which is what lets
 * 125,000 viewers fit an API Gateway account (docs/scale.md). A player in trouble does not wait for the rare
 * beat: the viewer sends one at once when a tile stalls.
 */
export const HEARTBEAT = {
  /** After a change the viewer made (new session, layout, focus, stream): the tile sizes reach the allocator at once. */
  afterChangeMs: 300,
  /** While the allocation is changing: the allocator may upgrade once per HOLD_MS (2 s) as the bandwidth follows. */
  fastMs: 2_000,
  /** A settled allocation. */
  stableMs: 30_000,
  /**
   * The allocation counts as changing this long after it last changed: five fast beats, room for the allocator's
   * upgrades to climb a three-rung ladder (one per HOLD_MS) once the measured bandwidth shows the new rung.
   */
  settleMs: 10_000,
  /**
   * Every interval is spread by +-10 % at random: viewers that started together (a stream going live, a page
   * reloaded by many at once, an outage ending) do not stay in step and hit the API in waves.
   */
  jitterRatio: 0.1,
  /** A failed call is retried after 1 s, doubling per consecutive failure up to the cap, forever. */
  retryBaseMs: 1_000,
  /** The cap: one try per 30 s per viewer while the API is down, no more than a stable heartbeat. */
  retryCapMs: 30_000,
  /** The stream picker's refresh; the list is cached at the edge (STREAM_LIST_TTL_SECONDS), shared by all viewers. */
  streamListMs: 15_000,
} as const;

/** The longest a live viewer may stay silent between two successful heartbeats: a stable beat, then a capped retry. */
export const LONGEST_SILENCE_MS = (HEARTBEAT.stableMs + HEARTBEAT.retryCapMs) * (1 + HEARTBEAT.jitterRatio);

/** The interval the session API answers: fast within settleMs of the allocation's last change, else stable. */
export function heartbeatIntervalMs(allocationChangedAtMs: number, nowMs: number): number {
  return nowMs - allocationChangedAtMs < HEARTBEAT.settleMs ? HEARTBEAT.fastMs : HEARTBEAT.stableMs;
}
