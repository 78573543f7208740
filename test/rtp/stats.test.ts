import { describe, expect, it } from 'vitest';
import { mp2tPayload } from '../../core/rtp/mp2t.js';
import { buildRtpPacket, parseRtpHeader, payloadOf } from '../../core/rtp/packet.js';
import { ReorderBuffer } from '../../core/rtp/reorder.js';
import { buildReceiverReport, parseReceiverReport } from '../../core/rtp/rtcp.js';
import { RtpReceptionStats } from '../../core/rtp/stats.js';

describe('RTP header (RFC 3550 §5.1)', () => {
  it('reads CSRCs, the extension and padding; refuses version 1, truncation and multiplexed RTCP', () => {
    const p = buildRtpPacket({
      payloadType: 33,
      sequence: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0xfeedface,
      marker: true,
      csrcs: [9],
      extension: { profile: 0xbede, words: [1, 2] },
      padding: 4,
      payload: Buffer.from('abc'),
    });
    const h = parseRtpHeader(p);
    expect(h).toEqual({
      ok: true,
      header: {
        marker: true,
        payloadType: 33,
        sequence: 65535,
        timestamp: 2 ** 32 - 1,
        ssrc: 0xfeedface,
        headerBytes: 12 + 4 + 4 + 8,
        padded: true,
      },
    });
    expect(h.ok && payloadOf(p, h.header)?.toString()).toBe('abc');
    const v1 = Buffer.from(p);
    v1[0] = (1 << 6) | (v1[0]! & 0x3f);
    expect(parseRtpHeader(v1).ok).toBe(false);
    expect(parseRtpHeader(p.subarray(0, 20)).ok).toBe(false);
    expect(parseRtpHeader(Buffer.from('81c90007deadbeef', 'hex')).ok).toBe(false);
  });

  it('RFC 2250: whole 188-byte TS packets only', () => {
    const ts = Buffer.alloc(376);
    ts[0] = 0x47;
    ts[188] = 0x47;
    expect(mp2tPayload(ts).ok).toBe(true);
    expect(mp2tPayload(ts.subarray(0, 200)).ok).toBe(false);
    ts[188] = 0;
    expect(mp2tPayload(ts)).toEqual({ ok: false, reason: 'no TS sync byte at offset 188' });
  });
});

describe('RFC 3550 reception statistics', () => {
  it('counts loss over a sequence wrap, fraction lost per interval, reordering, and extended sequence numbers', () => {
    const s = new RtpReceptionStats(90_000);
    const seqs = [65530, 65531, 65533, 65532, 65535, 0, 1, 3];
    const ext = seqs.map((q, i) => s.packet(q, i * 900, i * 10));
    expect(ext).toEqual([65530, 65531, 65533, 65532, 65535, 65536, 65537, 65539]);
    const snap = s.snapshot(true);
    // 65530..65539 is 10 expected, 8 received: 65534 and 2 lost; 65532 came after 65533.
    expect(snap).toMatchObject({ expected: 10, received: 8, cumulativeLost: 2, reordered: 1 });
    expect(snap.fractionLost).toBeCloseTo(0.2);
    expect(snap.extendedHighestSeq).toBe(65539);
    for (let q = 4; q < 14; q += 1) s.packet(q, q * 900, q * 10);
    expect(s.snapshot(true).fractionLost).toBe(0);
  });

  it('interarrival jitter (A.8): zero for a steady sender, the mean deviation for one that alternates', () => {
    const steady = new RtpReceptionStats(90_000);
    for (let i = 0; i < 100; i += 1) steady.packet(i, i * 3600, i * 40);
    expect(steady.snapshot().jitterMs).toBeCloseTo(0, 6);
    // Every other packet 10 ms late: |D| is 10 ms each time, so J converges to 10 ms (900 ticks).
    const bumpy = new RtpReceptionStats(90_000);
    for (let i = 0; i < 300; i += 1) bumpy.packet(i, i * 3600, i * 40 + (i % 2) * 10);
    expect(bumpy.snapshot().jitterMs).toBeCloseTo(10, 1);
    expect(bumpy.snapshot().jitter).toBeCloseTo(900, -1);
  });

  it('a far jump is held until confirmed, then statistics restart (a restarted sender)', () => {
    const s = new RtpReceptionStats(90_000);
    s.packet(100, 0, 0);
    s.packet(101, 0, 1);
    expect(s.packet(40_000, 0, 2)).toBeNull();
    expect(s.packet(40_001, 0, 3)).toBe(40_001);
    expect(s.snapshot()).toMatchObject({ expected: 1, received: 1 });
  });

  it('an RTCP RR carries the figures (§6.4.2), with an SDES CNAME', () => {
    const s = new RtpReceptionStats(90_000);
    for (const q of [1, 2, 4, 5]) s.packet(q, q * 3600, q * 40);
    const rr = buildReceiverReport({
      reporterSsrc: 1,
      sourceSsrc: 2,
      stats: s.snapshot(true),
      cname: 'mirror',
    });
    expect(rr.length % 4).toBe(0);
    expect(rr[32 + 1]).toBe(202);
    expect(parseReceiverReport(rr)).toEqual({
      reporterSsrc: 1,
      sourceSsrc: 2,
      fractionLost: 51 / 256,
      cumulativeLost: 1,
      extendedHighestSeq: 5,
      jitter: 0,
    });
  });
});

describe('reorder buffer', () => {
  it('releases in order, waits for a gap at most maxDelayMs or maxPackets, drops what comes after its place', () => {
    const b = new ReorderBuffer<number>({ maxPackets: 3, maxDelayMs: 50 });
    expect(b.push(10, 10, 0)).toEqual([10]);
    expect(b.push(12, 12, 1)).toEqual([]);
    expect(b.push(11, 11, 2)).toEqual([11, 12]);
    expect(b.push(14, 14, 3)).toEqual([]);
    expect(b.flush(52)).toEqual([]);
    expect(b.flush(53)).toEqual([14]);
    expect(b.push(13, 13, 54)).toEqual([]);
    expect(b.counters()).toMatchObject({ late: 1, skips: 1, held: 0 });
    // Bounded in packets: the fourth held packet gives the gap up at once.
    for (const q of [16, 17, 18]) expect(b.push(q, q, 60)).toEqual([]);
    expect(b.push(19, 19, 60)).toEqual([16, 17, 18, 19]);
    expect(b.push(21, 21, 61)).toEqual([]);
    expect(b.drain()).toEqual([21]);
  });
});
