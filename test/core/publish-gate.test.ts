import { describe, expect, it, vi } from 'vitest';
import { OutageNotice } from '../../core/outage.js';
import { PUBLISH_PROBE_INTERVAL_MS, PublishGate } from '../../core/packager/publish-gate.js';

function logger() {
  return { warn: vi.fn(), info: vi.fn() };
}

describe('outage notice', () => {
  it('warns once per outage, counts the rest, and says when it ended', () => {
    const log = logger();
    let now = 1000;
    const notice = new OutageNotice(log, 'status write', () => now);
    notice.succeeded();
    for (let i = 0; i < 50; i++) notice.failed(new Error('Connection is closed.'), { tick: i });
    expect(notice.failing).toBe(true);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith('status write failing', {
      tick: 0,
      error: 'Connection is closed.',
    });
    now = 31_000;
    notice.succeeded();
    notice.succeeded();
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith('status write recovered', { failures: 50, outageMs: 30_000 });
    notice.failed('again');
    expect(log.warn).toHaveBeenCalledTimes(2);
  });
});

describe('publish gate', () => {
  it('publishes while the store answers; after a failure skips, probes without waiting, and resumes', async () => {
    const log = logger();
    let now = 0;
    const gate = new PublishGate(log, { streamId: 's', rendition: 'r' }, () => now);
    let up = true;
    let pending: (() => void) | null = null;
    const calls: string[] = [];
    const publish = (name: string) => () => {
      calls.push(name);
      if (!up) return Promise.reject(new Error('Command timed out'));
      return new Promise<void>((resolve) => {
        pending = resolve;
      });
    };
    const first = gate.run(publish('p1'));
    pending!();
    expect(await first).toBe(true);

    up = false;
    expect(await gate.run(publish('p2'))).toBe(false);
    // Within the probe interval nothing is tried; the rendition's queue is not held.
    now += PUBLISH_PROBE_INTERVAL_MS - 1;
    expect(await gate.run(publish('p3'))).toBe(false);
    expect(calls).toEqual(['p1', 'p2']);

    // A probe goes out, not awaited; parts meanwhile are skipped.
    up = true;
    now += 1;
    expect(await gate.run(publish('p4'))).toBe(false);
    expect(await gate.run(publish('p5'))).toBe(false);
    expect(calls).toEqual(['p1', 'p2', 'p4']);
    pending!();
    await new Promise((r) => setImmediate(r));

    // Through again: the next publish is awaited as usual.
    const next = gate.run(publish('p6'));
    pending!();
    expect(await next).toBe(true);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith(
      'live-state publish recovered',
      expect.objectContaining({ streamId: 's', rendition: 'r', skipped: 2, failures: 1 }),
    );
  });

  it('always tries the final publish, and waits for it', async () => {
    const gate = new PublishGate(logger(), {}, () => 0);
    await gate.run(() => Promise.reject(new Error('down')));
    const final = vi.fn(async () => {});
    expect(await gate.run(final, true)).toBe(true);
    expect(final).toHaveBeenCalledTimes(1);
  });
});
