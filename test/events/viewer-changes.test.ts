import { describe, expect, it } from 'vitest';
import { viewerChanges } from '../../core/events/operator-events.js';
import { applyViewers } from '../../web/src/operator/live-updates.js';
import type { Stream } from '../../web/src/operator/model.js';

// Decision D44, viewer counts: the pure halves of the `viewers` event, what the server tells (only the counts that
// changed since its last sample) and what the page does with it (patch the rows it shows, nothing else).

describe('viewer count changes (core/events/operator-events.ts)', () => {
  const counts = (entries: [string, number][]) => new Map(entries);

  it('tells nothing for the first sample (the baseline) or for an unchanged one', () => {
    expect(viewerChanges(undefined, counts([['a', 4]]))).toBeUndefined();
    expect(viewerChanges(counts([['a', 4]]), counts([['a', 4]]))).toBeUndefined();
  });

  it('tells exactly the counts that moved, a new stream as moved from 0, a gone one not at all', () => {
    const before = counts([
      ['a', 4],
      ['b', 0],
      ['gone', 7],
    ]);
    const after = counts([
      ['a', 5],
      ['b', 0],
      ['new', 0],
      ['newer', 2],
    ]);
    expect(viewerChanges(before, after)).toEqual({ a: 5, newer: 2 });
    expect(viewerChanges(counts([['a', 3]]), counts([['a', 0]]))).toEqual({ a: 0 });
  });
});

describe('the page applies pushed viewer counts (web/src/operator/live-updates.ts)', () => {
  const stream = (id: string, viewers: number): Stream => ({
    id,
    name: id,
    ladder: 'tile',
    latency: 'low',
    encrypted: false,
    status: { state: 'live', renditions: [], updatedAt: '2026-12-01T10:00:00.000Z' },
    viewers,
  });
  const shown = [stream('a', 3), stream('b', 1)];

  it('patches the counts of the rows it names and keeps everything else', () => {
    const next = applyViewers(shown, { viewers: { b: 2, unknown: 9 } });
    expect(next.map((s) => s.viewers)).toEqual([3, 2]);
    expect(next[0]).toBe(shown[0]);
    expect(next[1]!.status).toBe(shown[1]!.status);
  });

  it('returns the same list (no render) when nothing shown changes or a count is not a count', () => {
    expect(applyViewers(shown, { viewers: { a: 3, other: 5 } })).toBe(shown);
    // A negative or NaN count, and a stream id that names an Object property the event does not have: ignored.
    const withOdd = [...shown, stream('constructor', 0)];
    expect(applyViewers(withOdd, { viewers: { a: -1, b: Number.NaN } })).toBe(withOdd);
    expect(applyViewers(shown, { viewers: JSON.parse('{"a":"7"}') })).toBe(shown);
  });
});
