import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LeaseResult } from '../../containers/ingest/src/lease.js';
import {
  MAX_PENDING_BEFORE_LEASE_BYTES,
  type SessionPipeline,
  Sessions,
} from '../../containers/ingest/src/service/sessions.js';
import type { SrtConnection } from '../../containers/ingest/src/srt/server.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';

class FakePipeline implements SessionPipeline {
  readonly written: string[] = [];
  readonly calls: string[] = [];
  /** The broadcast of each connection it was given (at open, then at each reconnect). */
  readonly broadcasts: string[] = [];
  constructor(
    readonly onFatal: (reason: string) => void,
    broadcast?: string,
  ) {
    if (broadcast !== undefined) this.broadcasts.push(broadcast);
  }
  write(chunk: Buffer): void {
    this.written.push(chunk.toString());
  }
  endInput(): void {
    this.calls.push('endInput');
  }
  async reconnect(broadcast?: string): Promise<void> {
    this.calls.push('reconnect');
    if (broadcast !== undefined) this.broadcasts.push(broadcast);
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
  status(): PipelineStatus {
    throw new Error('not read by the session table');
  }
}

/** A lease call the test settles by hand. */
interface PendingLease {
  readonly streamId: string;
  resolve(result: LeaseResult): void;
  reject(error: Error): void;
}

const GRACE_MS = 10_000;
let nextId = 1;
const conn = (streamId: string): SrtConnection => ({ id: nextId++, streamId, peer: `10.0.0.${nextId}:4000` });
const flush = () => vi.advanceTimersByTimeAsync(0);

function table() {
  const closed: Array<[number, string]> = [];
  const leaseCalls: PendingLease[] = [];
  const released: string[] = [];
  const down: Array<[string, string]> = [];
  const failed: string[] = [];
  const ended: string[] = [];
  const pipelines = new Map<string, FakePipeline>();
  const recorded: Array<[event: 'started' | 'ended', streamId: string, broadcast: string]> = [];
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const sessions = new Sessions<FakePipeline>({
    connections: { close: (id, reason) => closed.push([id, reason]) },
    leases: {
      acquire: (streamId) =>
        new Promise<LeaseResult>((resolve, reject) => leaseCalls.push({ streamId, resolve, reject })),
      release: async (streamId) => {
        released.push(streamId);
      },
    },
    openPipeline: (streamId, onFatal, broadcast) => {
      const pipeline = new FakePipeline(onFatal, broadcast);
      pipelines.set(streamId, pipeline);
      return pipeline;
    },
    reconnectGraceMs: GRACE_MS,
    broadcasts: {
      started: async (streamId, entry) => {
        recorded.push(['started', streamId, entry.id]);
      },
      ended: async (streamId, id) => {
        recorded.push(['ended', streamId, id]);
      },
    },
    log,
    onStreamDown: (streamId, reason) => down.push([streamId, reason]),
    onFailed: (session) => failed.push(session.streamId),
    onEnded: async (streamId) => {
      ended.push(streamId);
    },
  });
  return { sessions, closed, leaseCalls, released, down, failed, ended, pipelines, log, recorded };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('admission: connection -> lease -> pipeline', () => {
  it('holds input until the lease is taken, then hands it over in order, and writes straight through after', async () => {
    const t = table();
    const c = conn('cam');
    t.sessions.connected(c);
    t.sessions.received(c, Buffer.from('a'));
    t.sessions.received(c, Buffer.from('b'));
    expect(t.pipelines.get('cam')!.written).toEqual([]);
    expect(t.sessions.get('cam')!.pendingBytes).toBe(2);
    t.leaseCalls[0]!.resolve({ ok: true });
    await flush();
    t.sessions.received(c, Buffer.from('c'));
    expect(t.pipelines.get('cam')!.written).toEqual(['a', 'b', 'c']);
    expect(t.sessions.get('cam')!.pending).toBeNull();
    expect(t.log.info).toHaveBeenCalledWith('SRT publisher connected', {
      streamId: 'cam',
      peer: c.peer,
      reconnect: false,
    });
  });

  it('holds at most 8 MiB before the lease; what does not fit is dropped', async () => {
    const t = table();
    const c = conn('cam');
    t.sessions.connected(c);
    t.sessions.received(c, Buffer.alloc(MAX_PENDING_BEFORE_LEASE_BYTES - 1, 0x61));
    t.sessions.received(c, Buffer.from('xy'));
    t.sessions.received(c, Buffer.from('z'));
    t.leaseCalls[0]!.resolve({ ok: true });
    await flush();
    const written = t.pipelines.get('cam')!.written;
    expect(written.map((w) => w.length)).toEqual([MAX_PENDING_BEFORE_LEASE_BYTES - 1, 1]);
    expect(written[1]).toBe('z');
  });

  it('refuses a publisher whose lease another task holds (or Redis cannot grant), naming the holder', async () => {
    const t = table();
    const a = conn('cam');
    t.sessions.connected(a);
    t.sessions.received(a, Buffer.from('a'));
    t.leaseCalls[0]!.resolve({ ok: false, holder: 'task-b' });
    await flush();
    expect(t.closed).toEqual([[a.id, 'lease held by task-b']]);
    expect(t.pipelines.get('cam')!.written).toEqual([]);
    expect(t.log.warn).toHaveBeenCalledWith(
      'SRT publisher refused: the stream is published on another task',
      {
        streamId: 'cam',
        holder: 'task-b',
      },
    );

    const b = conn('other');
    t.sessions.connected(b);
    t.leaseCalls[1]!.reject(new Error('connection lost'));
    await flush();
    expect(t.closed[1]).toEqual([b.id, 'lease held by unknown (Redis: Error: connection lost)']);
  });

  it('closes a second publisher of a stream that is already publishing here', () => {
    const t = table();
    t.sessions.connected(conn('cam'));
    const second = conn('cam');
    t.sessions.connected(second);
    expect(t.closed).toEqual([[second.id, 'already publishing on this task']]);
    expect(t.leaseCalls).toHaveLength(1);
  });

  it('a connection that closed while its lease was being taken gets nothing', async () => {
    const t = table();
    const c = conn('cam');
    t.sessions.connected(c);
    t.sessions.received(c, Buffer.from('a'));
    t.sessions.closed(c, 'peer gone');
    t.leaseCalls[0]!.resolve({ ok: true });
    await flush();
    expect(t.pipelines.get('cam')!.written).toEqual([]);
    expect(t.pipelines.get('cam')!.calls).toEqual(['endInput']);
  });

  it('ignores data and closes from a connection that is not the session publisher', () => {
    const t = table();
    t.sessions.connected(conn('cam'));
    const stranger = conn('cam');
    t.sessions.received(stranger, Buffer.from('x'));
    t.sessions.closed(stranger, 'whatever');
    expect(t.sessions.get('cam')!.pendingBytes).toBe(0);
    expect(t.down).toEqual([]);
  });
});

describe('disconnects, reconnect grace and ending', () => {
  async function publishing(t: ReturnType<typeof table>, streamId: string): Promise<SrtConnection> {
    const c = conn(streamId);
    t.sessions.connected(c);
    t.leaseCalls.at(-1)!.resolve({ ok: true });
    await flush();
    return c;
  }

  it('a disconnect ends the input, releases the lease and counts a stream down; the session waits', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    t.sessions.closed(c, 'peer gone');
    expect(t.pipelines.get('cam')!.calls).toEqual(['endInput']);
    expect(t.released).toEqual(['cam']);
    expect(t.down).toEqual([['cam', 'peer gone']]);
    expect(t.sessions.get('cam')?.conn).toBeNull();
    expect(t.sessions.publishing()).toEqual([]);
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1);
    expect(t.sessions.get('cam')).toBeDefined();
    expect(t.ended).toEqual([]);
  });

  it('a reconnect within the grace continues the same pipeline with reconnect(), then the held input', async () => {
    const t = table();
    const first = await publishing(t, 'cam');
    const pipeline = t.pipelines.get('cam')!;
    t.sessions.closed(first, 'peer gone');
    await vi.advanceTimersByTimeAsync(GRACE_MS / 2);
    const second = conn('cam');
    t.sessions.connected(second);
    t.sessions.received(second, Buffer.from('again'));
    t.leaseCalls.at(-1)!.resolve({ ok: true });
    await flush();
    expect(t.pipelines.get('cam')).toBe(pipeline);
    expect(pipeline.calls).toEqual(['endInput', 'reconnect']);
    expect(pipeline.written).toEqual(['again']);
    expect(t.log.info).toHaveBeenCalledWith('SRT publisher connected', {
      streamId: 'cam',
      peer: second.peer,
      reconnect: true,
    });
    // The grace timer was cancelled: nothing ends the session later.
    await vi.advanceTimersByTimeAsync(GRACE_MS * 2);
    expect(t.ended).toEqual([]);
  });

  it('every admitted connection is a broadcast of its own (decision D16), recorded when it starts and ends', async () => {
    const t = table();
    const first = await publishing(t, 'cam');
    const pipeline = t.pipelines.get('cam')!;
    const [b1] = pipeline.broadcasts;
    expect(b1).toMatch(/^[0-9a-z]{12}$/);
    expect(t.sessions.get('cam')!.broadcast).toBe(b1);
    t.sessions.closed(first, 'peer gone');
    expect(t.sessions.get('cam')!.broadcast).toBeUndefined();
    // A reconnect refused by the lease records nothing; the one admitted next is a new broadcast.
    const refused = conn('cam');
    t.sessions.connected(refused);
    t.leaseCalls.at(-1)!.resolve({ ok: false, holder: 'task-b' });
    await flush();
    t.sessions.closed(refused, 'lease held by task-b');
    await publishing(t, 'cam');
    const b2 = pipeline.broadcasts[1]!;
    expect(b2).not.toBe(b1);
    expect(pipeline.broadcasts).toHaveLength(2);
    await t.sessions.end(t.sessions.get('cam')!);
    expect(t.recorded).toEqual([
      ['started', 'cam', b1],
      ['ended', 'cam', b1],
      ['started', 'cam', b2],
      ['ended', 'cam', b2],
    ]);
  });

  it('after the grace the session ends: pipeline stopped, lease released, status cleared', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    t.sessions.closed(c, 'peer gone');
    await vi.advanceTimersByTimeAsync(GRACE_MS);
    expect(t.sessions.get('cam')).toBeUndefined();
    expect(t.pipelines.get('cam')!.calls).toEqual(['endInput', 'stop']);
    expect(t.released).toEqual(['cam', 'cam']);
    expect(t.ended).toEqual(['cam']);
  });

  it('while draining, a disconnect is no stream down and starts no grace (stop() ends the sessions)', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    t.sessions.beginDrain();
    expect(t.sessions.draining).toBe(true);
    t.sessions.closed(c, 'listener stopped');
    expect(t.down).toEqual([]);
    await vi.advanceTimersByTimeAsync(GRACE_MS * 2);
    expect(t.sessions.get('cam')).toBeDefined();
    await t.sessions.end(t.sessions.get('cam')!);
    expect(t.sessions.get('cam')).toBeUndefined();
    expect(t.ended).toEqual(['cam']);
  });

  it('ending a publishing session closes its connection first', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    await t.sessions.end(t.sessions.get('cam')!);
    expect(t.closed).toEqual([[c.id, 'stream ended']]);
  });

  it('a failed pipeline is one stream down: the connection is closed and the failure reported at once', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    t.pipelines.get('cam')!.onFatal('input refused: not MPEG-TS');
    expect(t.sessions.get('cam')!.fatal).toBe('input refused: not MPEG-TS');
    expect(t.down).toEqual([['cam', 'input refused: not MPEG-TS']]);
    expect(t.closed).toEqual([[c.id, 'input refused: not MPEG-TS']]);
    expect(t.failed).toEqual(['cam']);
    t.sessions.closed(c, 'input refused: not MPEG-TS');
    expect(t.down).toHaveLength(1);
    // A reconnect clears the failure.
    t.sessions.connected(conn('cam'));
    expect(t.sessions.get('cam')!.fatal).toBeNull();
  });

  it('disconnect() closes only a publishing stream', async () => {
    const t = table();
    const c = await publishing(t, 'cam');
    expect(t.sessions.disconnect('nobody', 'operator')).toBe(false);
    expect(t.sessions.disconnect('cam', 'disconnected: operator')).toBe(true);
    expect(t.closed).toEqual([[c.id, 'disconnected: operator']]);
    t.sessions.closed(c, 'disconnected: operator');
    expect(t.sessions.disconnect('cam', 'again')).toBe(false);
  });
});

describe('admission while Redis is unreachable', () => {
  it('readmits an encoder coming back to its session here; refuses a new stream until Redis answers', async () => {
    const t = table();
    const first = conn('cam');
    t.sessions.connected(first);
    t.leaseCalls.at(-1)!.resolve({ ok: true });
    await flush();
    t.sessions.closed(first, 'peer gone');
    const back = conn('cam');
    t.sessions.connected(back);
    t.sessions.received(back, Buffer.from('held'));
    t.leaseCalls.at(-1)!.reject(new Error('Command timed out'));
    await flush();
    expect(t.closed).toEqual([]);
    expect(t.pipelines.get('cam')!.written).toEqual(['held']);
    expect(t.log.warn).toHaveBeenCalledWith('publisher readmitted without its lease: Redis unreachable', {
      streamId: 'cam',
      error: 'Error: Command timed out',
    });

    const fresh = conn('other');
    t.sessions.connected(fresh);
    t.leaseCalls.at(-1)!.reject(new Error('Command timed out'));
    await flush();
    expect(t.closed).toEqual([[fresh.id, 'lease held by unknown (Redis: Error: Command timed out)']]);
  });
});
