import { describe, expect, it } from 'vitest';
import { SESSION_TTL_MS } from '../../core/adapters/sessions/store.js';
import { HEARTBEAT, heartbeatIntervalMs, LONGEST_SILENCE_MS } from '../../core/sessions/heartbeat-policy.js';
import { Backoff, backoffMs, HeartbeatSchedule, jittered } from '../../web/src/heartbeat-schedule.js';

/** A random source that always answers `value`: the extremes of the jitter range. */
const always = (value: number) => () => value;
const LOW = always(0);
const HIGH = always(0.999_999);
const MID = always(0.5);

describe('retry backoff (viewer heartbeats and the stream list)', () => {
  it('doubles its ceiling per consecutive failure from the base', () => {
    const ceilings = [1, 2, 3, 4, 5].map((n) => backoffMs(n, HEARTBEAT, HIGH));
    expect(ceilings.map(Math.round)).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('stops at the cap, also after a very long outage', () => {
    for (const failures of [6, 10, 100, 10_000]) {
      expect(backoffMs(failures, HEARTBEAT, HIGH)).toBeLessThanOrEqual(HEARTBEAT.retryCapMs);
      expect(backoffMs(failures, HEARTBEAT, HIGH)).toBeGreaterThan(HEARTBEAT.retryCapMs * 0.999);
      expect(Number.isFinite(backoffMs(failures, HEARTBEAT, LOW))).toBe(true);
    }
  });

  it('draws the wait from the upper half of the ceiling (equal jitter)', () => {
    for (const failures of [1, 3, 8]) {
      const ceiling = Math.min(HEARTBEAT.retryCapMs, HEARTBEAT.retryBaseMs * 2 ** (failures - 1));
      expect(backoffMs(failures, HEARTBEAT, LOW)).toBe(ceiling / 2);
      expect(backoffMs(failures, HEARTBEAT, HIGH)).toBeLessThan(ceiling);
      expect(backoffMs(failures, HEARTBEAT, HIGH)).toBeGreaterThan(ceiling * 0.99);
    }
    // Two viewers failing together with different draws come back apart.
    expect(backoffMs(4, HEARTBEAT, always(0.1))).not.toBe(backoffMs(4, HEARTBEAT, always(0.9)));
  });

  it('starts again from the base after a success, and never gives up', () => {
    const backoff = new Backoff(HEARTBEAT, HIGH);
    for (let i = 0; i < 50; i++) backoff.failed();
    expect(backoff.failures).toBe(50);
    backoff.succeeded();
    expect(backoff.failures).toBe(0);
    expect(Math.round(backoff.failed())).toBe(HEARTBEAT.retryBaseMs);
  });
});

describe('adaptive heartbeat interval', () => {
  it('the API asks for fast beats while the allocation is changing, rare ones once it has settled', () => {
    const changedAt = 1_000_000;
    expect(heartbeatIntervalMs(changedAt, changedAt)).toBe(HEARTBEAT.fastMs);
    expect(heartbeatIntervalMs(changedAt, changedAt + HEARTBEAT.settleMs - 1)).toBe(HEARTBEAT.fastMs);
    expect(heartbeatIntervalMs(changedAt, changedAt + HEARTBEAT.settleMs)).toBe(HEARTBEAT.stableMs);
    expect(HEARTBEAT.stableMs).toBeGreaterThanOrEqual(10 * HEARTBEAT.fastMs);
  });

  it('follows the interval of each answer, jittered by at most the jitter ratio', () => {
    const schedule = new HeartbeatSchedule(HEARTBEAT, MID);
    expect(schedule.afterAnswer(0, HEARTBEAT.fastMs)).toBe(HEARTBEAT.fastMs);
    expect(schedule.afterAnswer(0, HEARTBEAT.stableMs)).toBe(HEARTBEAT.stableMs);
    for (const [random, factor] of [
      [LOW, 1 - HEARTBEAT.jitterRatio],
      [HIGH, 1 + HEARTBEAT.jitterRatio],
    ] as const) {
      const delay = new HeartbeatSchedule(HEARTBEAT, random).afterAnswer(0, HEARTBEAT.stableMs);
      expect(delay).toBeCloseTo(HEARTBEAT.stableMs * factor, 0);
    }
    expect(jittered(1000, 0.1, LOW)).toBe(900);
  });

  it('holds a broken answer within [fast, stable]: it neither spins the loop nor outlives the session', () => {
    const schedule = new HeartbeatSchedule(HEARTBEAT, MID);
    expect(schedule.afterAnswer(0, 0)).toBe(HEARTBEAT.fastMs);
    expect(schedule.afterAnswer(0, Number.NaN)).toBe(HEARTBEAT.fastMs);
    expect(schedule.afterAnswer(0, 3_600_000)).toBe(HEARTBEAT.stableMs);
  });

  it('beats soon after a change the viewer made', () => {
    expect(new HeartbeatSchedule(HEARTBEAT, MID).afterChange(0)).toBe(HEARTBEAT.afterChangeMs);
  });

  it('backs off on failures and returns to the answered interval on the first success', () => {
    const schedule = new HeartbeatSchedule(HEARTBEAT, HIGH);
    schedule.afterAnswer(0, HEARTBEAT.stableMs);
    const waits = [1, 2, 3, 4, 5, 6, 7].map(() => Math.round(schedule.afterFailure(0)));
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(schedule.failures).toBe(7);
    expect(schedule.afterAnswer(0, HEARTBEAT.fastMs)).toBeCloseTo(HEARTBEAT.fastMs * 1.1, 0);
    expect(schedule.failures).toBe(0);
    expect(Math.round(schedule.afterFailure(0))).toBe(HEARTBEAT.retryBaseMs);
  });

  it('brings a rare beat forward when a tile stalls, but not a sooner one nor a backoff', () => {
    const schedule = new HeartbeatSchedule(HEARTBEAT, MID);
    schedule.afterAnswer(0, HEARTBEAT.stableMs); // due at 30 s
    expect(schedule.onTrouble(5_000)).toBe(HEARTBEAT.fastMs); // now due at 7 s
    expect(schedule.onTrouble(6_000)).toBeUndefined(); // due in 1 s anyway
    schedule.afterAnswer(10_000, HEARTBEAT.fastMs);
    expect(schedule.onTrouble(10_500)).toBeUndefined();
    schedule.afterFailure(20_000);
    for (let i = 0; i < 6; i++) schedule.afterFailure(20_000); // a 30 s backoff
    expect(schedule.onTrouble(21_000)).toBeUndefined();
  });
});

describe('session TTL against the heartbeat policy', () => {
  it('outlasts the longest silence of a live viewer (a stable beat, then a capped retry) by a stable beat', () => {
    expect(LONGEST_SILENCE_MS).toBe((30_000 + 30_000) * 1.1);
    expect(SESSION_TTL_MS).toBeGreaterThanOrEqual(
      LONGEST_SILENCE_MS + HEARTBEAT.stableMs * (1 + HEARTBEAT.jitterRatio),
    );
  });
});
