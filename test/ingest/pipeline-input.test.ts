import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputProbe, type ProbeOutcome } from '../../containers/ingest/src/transcode/input-probe.js';
import { InputQueue } from '../../containers/ingest/src/transcode/input-queue.js';
import { PROBE_LIMIT_BYTES } from '../../containers/ingest/src/transcode/ts-probe.js';
import { makeClip } from './media.js';

const bytes = (n: number, fill = 0x47) => Buffer.alloc(n, fill);

describe('input queue (bounded, drop accounting)', () => {
  it('keeps chunks in order up to the bound, then drops whole chunks and counts them', () => {
    const queue = new InputQueue(1000);
    expect(queue.push(bytes(600), 1)).toBe(true);
    expect(queue.push(bytes(300), 2)).toBe(true);
    // 600 + 300 + 200 > 1000: the chunk is dropped whole, never cut.
    expect(queue.push(bytes(200), 3)).toBe(false);
    expect(queue.push(bytes(100), 4)).toBe(true);
    expect(queue.bytes).toBe(1000);
    expect(queue.chunks.map((c) => c.atMs)).toEqual([1, 2, 4]);
    expect(queue.firstArrivalMs).toBe(1);
    expect({ bytes: queue.droppedBytes, chunks: queue.droppedChunks }).toEqual({ bytes: 200, chunks: 1 });
  });

  it('drains in order until the writer pushes back, keeping the rest and its byte count', () => {
    const queue = new InputQueue(10_000);
    for (const [i, n] of [100, 200, 300, 400].entries()) queue.push(bytes(n, i), i);
    const written: number[] = [];
    // The second write is accepted but says "full": draining stops after it.
    const finished = queue.drainInto((chunk) => {
      written.push(chunk.length);
      return written.length < 2;
    });
    expect(finished).toBe(false);
    expect(written).toEqual([100, 200]);
    expect(queue.bytes).toBe(700);
    expect(queue.firstArrivalMs).toBe(2);
    expect(queue.drainInto(() => true)).toBe(true);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('flushes everything at the end of input regardless of back-pressure, then is empty', () => {
    const queue = new InputQueue(10_000);
    queue.push(bytes(10, 1), 1);
    queue.push(bytes(20, 2), 2);
    const written: number[] = [];
    queue.flushInto((chunk) => {
      written.push(chunk.length);
      return false;
    });
    expect(written).toEqual([10, 20]);
    expect({ length: queue.length, bytes: queue.bytes, first: queue.firstArrivalMs }).toEqual({
      length: 0,
      bytes: 0,
      first: undefined,
    });
  });
});

describe('input probe (MPEG-TS program tables, held bytes)', () => {
  let clip: Buffer;
  beforeAll(() => {
    clip = readFileSync(makeClip({ codec: 'h264', width: 160, height: 90, seconds: 1 }));
  });

  it('holds chunks until the PMT, then gives them back as they arrived, each with its arrival time', () => {
    const probe = new InputProbe();
    const sizes = [188, 376, 1316, 1316, 1316, 1316];
    let offset = 0;
    let outcome: ProbeOutcome = { kind: 'need-more' };
    const pushed: Buffer[] = [];
    for (const [i, size] of sizes.entries()) {
      const chunk = clip.subarray(offset, offset + size);
      offset += size;
      pushed.push(chunk);
      outcome = probe.push(chunk, 1000 + i);
      if (outcome.kind !== 'need-more') break;
      expect(probe.bufferedBytes).toBe(offset);
    }
    expect(outcome.kind).toBe('found');
    if (outcome.kind !== 'found') return;
    expect(outcome).toMatchObject({ video: 'h264', audio: 'aac' });
    // Every arrival keeps its own time and its own bytes (the arrival clock reads both).
    expect(outcome.chunks.map((c) => c.atMs)).toEqual(pushed.map((_, i) => 1000 + i));
    expect(outcome.chunks.map((c) => Buffer.from(c.chunk))).toEqual(pushed.map((c) => Buffer.from(c)));
    // Found resets it: the bytes now belong to the queue, not counted twice.
    expect(probe.bufferedBytes).toBe(0);
  });

  it('refuses a feed that is not MPEG-TS and forgets what it held', () => {
    const probe = new InputProbe();
    expect(probe.push(bytes(100, 0x11), 1).kind).toBe('need-more');
    const outcome = probe.push(bytes(1000, 0x11), 2);
    expect(outcome).toMatchObject({ kind: 'refused', reason: expect.stringContaining('MPEG-TS') });
    expect(probe.bufferedBytes).toBe(0);
  });

  it('refuses MPEG-TS without program tables once the probe limit is reached', () => {
    // Sync bytes every 188 bytes on PID 0x1fff (null packets): valid TS, never a PAT.
    const packet = Buffer.alloc(188, 0xff);
    packet[0] = 0x47;
    packet[1] = 0x1f;
    packet[2] = 0xff;
    packet[3] = 0x10;
    const probe = new InputProbe();
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => packet));
    let pushes = 0;
    let outcome: ProbeOutcome = { kind: 'need-more' };
    while (outcome.kind === 'need-more' && pushes < 100) {
      outcome = probe.push(chunk, pushes++);
    }
    expect(outcome).toMatchObject({ kind: 'refused', reason: expect.stringContaining('PAT/PMT') });
    // Refused on the push that reached the limit, not before.
    expect(pushes).toBe(Math.ceil(PROBE_LIMIT_BYTES / chunk.length));
    expect(probe.bufferedBytes).toBe(0);
  });

  it('reset() drops what is held, so the next connection is probed from its own first bytes', () => {
    const probe = new InputProbe();
    probe.push(clip.subarray(0, 188), 1);
    expect(probe.bufferedBytes).toBe(188);
    probe.reset();
    expect(probe.bufferedBytes).toBe(0);
    const outcome = probe.push(clip.subarray(0, 64 * 1316), 2);
    expect(outcome.kind).toBe('found');
    if (outcome.kind === 'found') expect(outcome.chunks).toHaveLength(1);
  });
});
