import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../../containers/ingest/src/service/lease-keeper.js';
import { startTicker } from '../../containers/ingest/src/service/ticker.js';

const publisher = { id: 9, streamId: 'cam', peer: 'p' };

function keeper(renewed: boolean) {
  const renew = vi.fn(async () => renewed);
  const closed: Array<[number, string]> = [];
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const k = new LeaseKeeper({ renew }, { close: (id, reason) => closed.push([id, reason]) }, log);
  return { k, renew, closed, log };
}

describe('lease keeper', () => {
  it('renews the lease of a publishing stream', async () => {
    const t = keeper(true);
    expect(await t.k.keep({ streamId: 'cam', conn: publisher, pending: null })).toBe(true);
    expect(t.renew).toHaveBeenCalledWith('cam');
    expect(t.closed).toEqual([]);
  });

  it('disconnects the publisher when the lease is no longer ours', async () => {
    const t = keeper(false);
    expect(await t.k.keep({ streamId: 'cam', conn: publisher, pending: null })).toBe(false);
    expect(t.closed).toEqual([[9, 'lease lost']]);
    expect(t.log.warn).toHaveBeenCalledWith('publisher lease lost; disconnecting', { streamId: 'cam' });
  });

  it('renews nothing for a stream without a publisher or still taking its lease', async () => {
    const t = keeper(false);
    expect(await t.k.keep({ streamId: 'idle', conn: null, pending: null })).toBe(true);
    expect(await t.k.keep({ streamId: 'new', conn: publisher, pending: [] })).toBe(true);
    expect(t.renew).not.toHaveBeenCalled();
    expect(t.closed).toEqual([]);
  });
});

describe('status ticker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval but never two runs at once: a tick during a slow run is skipped', async () => {
    let finish: () => void = () => {};
    const task = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const ticker = startTicker(1000, task, () => {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(task).toHaveBeenCalledTimes(2);
    ticker.stop();
    finish();
    await vi.advanceTimersByTimeAsync(5000);
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('hands a failed run to onError and keeps ticking', async () => {
    const errors: unknown[] = [];
    const task = vi.fn(async () => {
      throw new Error('redis down');
    });
    const ticker = startTicker(500, task, (error) => errors.push(error));
    await vi.advanceTimersByTimeAsync(1000);
    ticker.stop();
    expect(task).toHaveBeenCalledTimes(2);
    expect(errors.map(String)).toEqual(['Error: redis down', 'Error: redis down']);
  });
});
