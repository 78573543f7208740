import { describe, expect, it } from 'vitest';
import {
  DRAIN_MARGIN_MS,
  type DrainPlanInput,
  drainCloseBy,
  freeCapacityElsewhere,
  planDrain,
} from '../../containers/ingest/src/service/drain-plan.js';

const base: DrainPlanInput = {
  nowMs: 1000,
  closeByMs: 11_000,
  spacingMs: 250,
  lastCloseMs: null,
  freeElsewhere: 0,
  inFlight: 0,
  open: ['a', 'b', 'c'],
};

describe('drain window', () => {
  it('keeps the margin for closing segments and leases, a quarter of a short window', () => {
    expect(drainCloseBy(0, 120_000)).toBe(120_000 - DRAIN_MARGIN_MS);
    expect(drainCloseBy(500, 8_000)).toBe(500 + 6_000);
    expect(drainCloseBy(0, 0)).toBe(0);
  });
});

describe('planDrain', () => {
  it('keeps every publisher until the deadline while no other task has room, the last one at the deadline', () => {
    expect(planDrain(base)).toEqual([
      { streamId: 'a', atMs: 10_500, cause: 'deadline' },
      { streamId: 'b', atMs: 10_750, cause: 'deadline' },
      { streamId: 'c', atMs: 11_000, cause: 'deadline' },
    ]);
  });

  it('moves as many as the other tasks have room for at once, spaced, and keeps the rest for the deadline', () => {
    expect(planDrain({ ...base, freeElsewhere: 2 })).toEqual([
      { streamId: 'a', atMs: 1000, cause: 'capacity' },
      { streamId: 'b', atMs: 1250, cause: 'capacity' },
      { streamId: 'c', atMs: 11_000, cause: 'deadline' },
    ]);
    expect(planDrain({ ...base, freeElsewhere: 10 }).map((s) => s.atMs)).toEqual([1000, 1250, 1500]);
  });

  it('counts publishers already sent elsewhere but not yet in the reports as taken slots', () => {
    expect(planDrain({ ...base, freeElsewhere: 2, inFlight: 1 }).map((s) => s.cause)).toEqual([
      'capacity',
      'deadline',
      'deadline',
    ]);
    expect(planDrain({ ...base, freeElsewhere: 1, inFlight: 3 }).every((s) => s.cause === 'deadline')).toBe(
      true,
    );
  });

  it('waits one spacing after the last close before the next', () => {
    const plan = planDrain({ ...base, nowMs: 2000, lastCloseMs: 1900, freeElsewhere: 3, open: ['b', 'c'] });
    expect(plan).toEqual([
      { streamId: 'b', atMs: 2150, cause: 'capacity' },
      { streamId: 'c', atMs: 2400, cause: 'capacity' },
    ]);
  });

  it('squeezes the spacing when the window cannot hold every publisher, never past the deadline', () => {
    const open = Array.from({ length: 5 }, (_, i) => `s${i}`);
    const plan = planDrain({ ...base, nowMs: 10_000, open });
    expect(plan.map((s) => s.atMs)).toEqual([10_000, 10_250, 10_500, 10_750, 11_000]);
    const tight = planDrain({ ...base, nowMs: 10_600, open });
    expect(tight.map((s) => s.atMs)).toEqual([10_600, 10_700, 10_800, 10_900, 11_000]);
  });

  it('closes everything now once the deadline has passed', () => {
    const plan = planDrain({ ...base, nowMs: 12_000, lastCloseMs: 11_990 });
    expect(plan.map((s) => s.atMs)).toEqual([12_000, 12_000, 12_000]);
  });

  it('plans nothing for no publishers', () => {
    expect(planDrain({ ...base, open: [] })).toEqual([]);
  });
});

describe('freeCapacityElsewhere', () => {
  const now = Date.parse('2026-12-01T12:00:10.000Z');
  const at = (s: number) => new Date(now - s * 1000).toISOString();

  it('adds the free slots of fresh, non-draining other tasks', () => {
    const reports = [
      { taskId: 'me', capacity: 8, streams: 1, draining: true, updatedAt: at(0) },
      { taskId: 'b', capacity: 8, streams: 5, draining: false, updatedAt: at(1) },
      { taskId: 'c', capacity: 4, streams: 1, updatedAt: at(2) },
      { taskId: 'full', capacity: 4, streams: 6, draining: false, updatedAt: at(0) },
      { taskId: 'old', capacity: 8, streams: 0, draining: false, updatedAt: at(30) },
      { taskId: 'leaving', capacity: 8, streams: 0, draining: true, updatedAt: at(0) },
      { taskId: 'no-capacity', streams: 0, updatedAt: at(0) },
      { taskId: 'no-time', capacity: 8, streams: 0 },
      { taskId: 'bad-time', capacity: 8, streams: 0, updatedAt: 'yesterday' },
    ];
    expect(freeCapacityElsewhere(reports, 'me', now)).toBe(3 + 3);
  });
});
