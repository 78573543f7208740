import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, type ProbeResult, REJECT } from '../../containers/ingest/src/srt/native.js';
import { RejectSummary, sourceOf } from '../../containers/ingest/src/srt/reject-summary.js';
import { SrtListener, type SrtListenerOptions } from '../../containers/ingest/src/srt/server.js';
import { hashPublishKey } from '../../core/streams/secrets.js';
import { freeUdpPort, waitFor } from './media.js';

/**
 * The SRT listener's bounds, over loopback with real libsrt: the per-source handshake rate limit (another
 * 127.x address is another source), rejects logged as one summary per interval, and the bounded queue towards
 * JavaScript (the event loop is blocked while callers keep sending).
 */

const native = loadNative();
const KEY = 'k-0123456789abcdef';
const listeners: SrtListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
});

interface Logged {
  message: string;
  fields: Record<string, unknown>;
}

async function start(options: Partial<SrtListenerOptions> = {}) {
  const port = await freeUdpPort();
  const logged: Logged[] = [];
  const logger = {
    info() {},
    error() {},
    warn(message: string, ...extra: Record<string, unknown>[]) {
      logged.push({ message, fields: Object.assign({}, ...extra) });
    },
  };
  const listener = new SrtListener({ port, host: '127.0.0.1', maxConnections: 8, logger, ...options });
  listeners.push(listener);
  for (const n of [1, 2, 3, 4])
    listener.setStream(`cam-${n}`, {
      publishKeyHash: hashPublishKey(`${KEY}-${n}`),
      passphrase: null,
      keyLength: 16,
    });
  listener.listen();
  const probe = (streamId: string, extra: { bindHost?: string; holdMs?: number; garbage?: boolean } = {}) =>
    native.probe({ host: '127.0.0.1', port, streamId, timeoutMs: 2000, ...extra });
  return { listener, logged, probe };
}

/** Blocks this thread's event loop (native threads keep running), as a long synchronous task would. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const count = (results: ProbeResult[], code: number) => results.filter((r) => r.rejectReason === code).length;

describe('handshake rate limit (native token bucket per source)', () => {
  const limiter = (
    options: { ratePerSec: number; burst: number; maxSources: number },
    attempts: [string, number][],
  ) =>
    native.testHandshakeLimiter(
      options,
      attempts.map(([source, atMs]) => ({ source, atMs })),
    );

  it('allows a burst, then the refill rate, per source', () => {
    const { allowed } = limiter({ ratePerSec: 2, burst: 3, maxSources: 16 }, [
      ['a', 0],
      ['a', 0],
      ['a', 0],
      ['a', 0], // burst spent
      ['b', 0], // another source has its own bucket
      ['a', 400], // 0.8 tokens refilled: still refused
      ['a', 500], // 1 token
      ['a', 500],
      ['a', 10_000], // refilled to the burst, never beyond
      ['a', 10_000],
      ['a', 10_000],
      ['a', 10_000],
    ]);
    expect(allowed).toEqual([true, true, true, false, true, false, true, false, true, true, true, false]);
  });

  it('keeps at most maxSources buckets, evicting the least recently seen', () => {
    const result = limiter({ ratePerSec: 1, burst: 1, maxSources: 2 }, [
      ['a', 0],
      ['b', 0],
      ['a', 1], // a is refused (no token) and becomes the most recent
      ['c', 2], // evicts b, not a
      ['a', 3], // still limited: its bucket was kept
      ['b', 4], // b starts over with a full bucket
    ]);
    expect(result.allowed).toEqual([true, true, false, true, false, true]);
    expect(result.sources).toBe(2);
  });
});

describe('a handshake flood from one source', () => {
  it('is refused with SRT_REJX_OVERLOAD past its burst while another source still connects, and logged as one summary', async () => {
    const { listener, logged, probe } = await start({
      handshakeRatePerSec: 2,
      handshakeBurst: 5,
      rejectSummaryIntervalMs: 60_000,
    });
    let events = 0;
    listener.on('reject', () => events++);
    const started = Date.now();
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => probe('#!::r=nope,s=x', { bindHost: '127.0.0.2' })),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const limited = count(flood, REJECT.OVERLOAD);
    // At most the burst plus the refill during the flood got as far as the stream lookup (and were refused there).
    expect(count(flood, REJECT.NOT_FOUND)).toBeLessThanOrEqual(5 + Math.ceil(2 * elapsedS));
    expect(limited).toBeGreaterThanOrEqual(40 - 5 - Math.ceil(2 * elapsedS));
    expect(limited + count(flood, REJECT.NOT_FOUND)).toBe(40);
    expect(await probe(`${KEY}-1`, { bindHost: '127.0.0.1' })).toMatchObject({ connected: true });

    await waitFor('40 reject events', () => events === 40);
    expect(logged).toHaveLength(0); // nothing per reject
    await listener.stop(); // flushes the interval's summary
    const lines = logged.filter((l) => l.message === 'SRT callers rejected');
    expect(lines).toHaveLength(1);
    const summary = lines[0]!.fields;
    expect(summary.total).toBe(40);
    expect(summary.byReason).toMatchObject({ '1402 handshake rate limit': limited });
    expect(summary.topSources).toEqual([{ source: '127.0.0.2', count: 40 }]);
  });

  it('logs one line per interval however many rejects there are', async () => {
    const { logged, probe } = await start({ handshakeRatePerSec: 0, rejectSummaryIntervalMs: 250 });
    const started = Date.now();
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, () => probe('#!::r=nope,s=x')));
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    const intervals = Math.ceil((Date.now() - started) / 250);
    const lines = logged.filter((l) => l.message === 'SRT callers rejected');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(intervals);
    expect(lines.reduce((n, l) => n + (l.fields.total as number), 0)).toBe(30);
    expect(lines[0]!.fields.byReason).toEqual({ [`${REJECT.NOT_FOUND} unknown stream`]: expect.any(Number) });
  });
});

describe('the queue towards JavaScript', () => {
  it('drops data over the per-connection and total bounds while the event loop stalls, and loses no accept or close', async () => {
    const perConnection = 64 * 1024;
    const total = 96 * 1024;
    const { listener, probe } = await start({ maxPendingBytes: perConnection, maxQueuedBytes: total });
    const opened: string[] = [];
    const closed: string[] = [];
    const ids = new Map<string, number>();
    let delivered = 0;
    listener.on('connection', (c) => {
      opened.push(c.streamId);
      ids.set(c.streamId, c.id);
    });
    listener.on('close', (c) => closed.push(c.streamId));
    listener.on('data', (_c, data) => {
      delivered += data.length;
    });
    // Two callers sending about 260 KB/s each for 2 s.
    const feeds = [
      probe(`${KEY}-1`, { holdMs: 2000, garbage: true }),
      probe(`${KEY}-2`, { holdMs: 2000, garbage: true }),
    ];
    await waitFor('two connections', () => opened.length === 2);
    // A third caller connects and leaves while JavaScript is not running: its accept and close must both arrive.
    const brief = probe(`${KEY}-3`, { holdMs: 100 });
    blockEventLoop(1000);
    const peak = listener.queueStats().peakDataBytes;
    // The native side goes on receiving (and dropping) while JavaScript reads: the per-connection figures are
    // bracketed by the total read just before and just after them.
    const droppedBefore = listener.queueStats().droppedDataBytes;
    const stats = [...ids.values()].map((id) => listener.stats(id)!);
    const droppedAfter = listener.queueStats().droppedDataBytes;
    await Promise.all([...feeds, brief]);
    await waitFor('three closes', () => closed.length === 3);

    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(total); // below the sum of the per-connection bounds: the total bound held
    for (const s of stats) {
      expect(s.queueDroppedBytes).toBeGreaterThan(0);
      expect(s.queueDroppedChunks).toBeGreaterThan(0);
    }
    const droppedPerConnection = stats.reduce((n, s) => n + s.queueDroppedBytes, 0);
    expect(droppedPerConnection).toBeGreaterThanOrEqual(droppedBefore);
    expect(droppedPerConnection).toBeLessThanOrEqual(droppedAfter);
    expect(delivered).toBeGreaterThan(0);
    expect(opened.sort()).toEqual(['cam-1', 'cam-2', 'cam-3']);
    expect(closed.sort()).toEqual(['cam-1', 'cam-2', 'cam-3']);
  });

  it('keeps at most maxQueuedRejects reject events waiting and counts the rest into the summary', async () => {
    const { listener, logged, probe } = await start({ maxQueuedRejects: 4, handshakeRatePerSec: 0 });
    let events = 0;
    listener.on('reject', () => events++);
    const flood = Array.from({ length: 12 }, () => probe('#!::r=nope,s=x'));
    // Rejects arrive while the event loop is blocked, so they wait in the native queue.
    blockEventLoop(1500);
    await Promise.all(flood);
    await new Promise((r) => setTimeout(r, 50));
    await listener.stop();
    const [summary] = logged.filter((l) => l.message === 'SRT callers rejected');
    expect(summary!.fields.total).toBe(12);
    const notDelivered = summary!.fields.notDelivered as Record<string, number>;
    expect(events + (notDelivered[String(REJECT.NOT_FOUND)] ?? 0)).toBe(12);
    expect(events).toBeGreaterThanOrEqual(4);
  });
});

describe('RejectSummary', () => {
  it('counts by reason without detail and names the top sources, in bounded tables', () => {
    const summary = new RejectSummary();
    for (let i = 0; i < 3; i++)
      summary.record({ code: 1400, reason: `malformed streamid: detail ${i}`, peer: '10.0.0.1:5000' });
    for (let i = 0; i < 2000; i++)
      summary.record({ code: 1402, reason: 'handshake rate limit', peer: `10.1.${i >> 8}.${i & 255}:${i}` });
    summary.recordNotDelivered({ 1402: 7 });
    const line = summary.take()!;
    expect(line.total).toBe(2010);
    expect(line.byReason).toEqual({ '1400 malformed streamid': 3, '1402 handshake rate limit': 2000 });
    expect(line.topSources[0]).toEqual({ source: '10.0.0.1', count: 3 });
    expect(line.topSources).toHaveLength(5);
    expect(line.otherSources).toBe(2000 - 1023); // the table holds 10.0.0.1 and the first 1023 others
    expect(line.notDelivered).toEqual({ 1402: 7 });
    expect(summary.take()).toBeUndefined();
  });

  it('reads the address out of host:port for IPv4 and IPv6 peers', () => {
    expect(sourceOf('203.0.113.7:4000')).toBe('203.0.113.7');
    expect(sourceOf('2001:db8::1:4000')).toBe('2001:db8::1');
    expect(sourceOf('')).toBe('(unknown)');
  });
});
