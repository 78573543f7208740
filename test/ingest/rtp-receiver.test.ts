import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpReceiver } from '../../containers/ingest/src/rtp/receiver.js';
import { SourceRateLimit } from '../../containers/ingest/src/rtp/source-gate.js';
import type { SrtConnection } from '../../containers/ingest/src/srt/server.js';
import { buildRtpPacket, PAYLOAD_TYPE_MP2T } from '../../core/rtp/packet.js';
import { parseReceiverReport } from '../../core/rtp/rtcp.js';
import { deriveSessionKeys, parseSrtpParams, SrtpSendContext, unprotectRtcp } from '../../core/rtp/srtp.js';
import { newSrtpParams } from '../rtp/media.js';
import { freeUdpPort, waitFor } from './media.js';

/** Seven TS packets whose first payload byte carries `tag`, as one RFC 2250 payload. */
function tsPayload(tag: number): Buffer {
  const b = Buffer.alloc(188 * 7);
  for (let i = 0; i < 7; i += 1) b[i * 188] = 0x47;
  b[4] = tag;
  return b;
}

/** A synthetic SRTP sender on a port P whose P+1 receives RTCP (where the receiver sends its reports). */
async function sender(key: string, ssrc: number, roc = 0) {
  for (;;) {
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    const port = await freeUdpPort();
    try {
      await new Promise<void>((resolve, reject) => {
        rtp.once('error', reject);
        rtp.bind(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve, reject) => {
        rtcp.once('error', reject);
        rtcp.bind(port + 1, '127.0.0.1', resolve);
      });
    } catch {
      rtp.close();
      rtcp.close();
      continue;
    }
    const ctx = new SrtpSendContext(deriveSessionKeys(parseSrtpParams(key)), roc);
    const reports: Buffer[] = [];
    rtcp.on('message', (m) => reports.push(m));
    sockets.push(rtp, rtcp);
    return {
      reports,
      send(to: number, seq: number, tag = seq & 0xff) {
        const clear = buildRtpPacket({
          payloadType: PAYLOAD_TYPE_MP2T,
          sequence: seq,
          timestamp: seq * 900,
          ssrc,
          payload: tsPayload(tag),
        });
        rtp.send(ctx.protect(clear), to, '127.0.0.1');
      },
    };
  }
}

const sockets: Socket[] = [];
const receivers: RtpReceiver[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function receiver(options: Partial<ConstructorParameters<typeof RtpReceiver>[0]> = {}) {
  const port = await freeUdpPort();
  const r = new RtpReceiver({ port, host: '127.0.0.1', ...options });
  await r.listen();
  receivers.push(r);
  const events: string[] = [];
  const data: Buffer[] = [];
  let conn: SrtConnection | undefined;
  r.on('connection', (c) => {
    conn = c;
    events.push(`connection ${c.streamId}`);
  });
  r.on('data', (_c, d) => data.push(d));
  r.on('close', (c, reason) => events.push(`close ${c.streamId}: ${reason}`));
  return { r, port, events, data, conn: () => conn };
}

describe('RTP receiver', () => {
  it('learns the source by its key, reorders, sends SRTCP receiver reports, ends the publish after silence', async () => {
    const { r, port, events, data, conn } = await receiver({ silenceMs: 400, rtcpIntervalMs: 100 });
    const key = newSrtpParams();
    r.setStream('other', { srtpKey: newSrtpParams() });
    r.setStream('cam', { srtpKey: key });
    const s = await sender(key, 0xabc);
    for (const seq of [100, 102, 101, 103, 105]) s.send(port, seq);
    // The RFC 2250 payloads in the order they were handed on (one data event may carry several).
    const tags = () => {
      const all = Buffer.concat(data);
      return Array.from({ length: all.length / 1316 }, (_, i) => all[i * 1316 + 4]);
    };
    await waitFor('data', () => tags().length >= 4 && conn());
    expect(events).toEqual(['connection cam']);
    // 100..103 in order; 105 waits for 104 (given up after the reorder delay).
    expect(tags().slice(0, 4)).toEqual([100, 101, 102, 103]);
    await waitFor('gap given up', () => tags().length === 5);
    expect(r.stats(conn()!.id)).toMatchObject({
      ssrc: 0xabc,
      srtp: true,
      lost: 1,
      reordered: 1,
      authFailures: 0,
    });
    const report = await waitFor('an RTCP report', () => s.reports[0]);
    const rtcp = unprotectRtcp(deriveSessionKeys(parseSrtpParams(key), true), report);
    expect(parseReceiverReport(rtcp!.rtcp)).toMatchObject({ sourceSsrc: 0xabc, cumulativeLost: 1 });
    await waitFor('silence', () => events.length === 2, 2000);
    expect(events[1]).toBe('close cam: silence: no RTP for 0.4 s');
    expect(r.flowCount).toBe(0);
  });

  it('refuses a second keyed source while the first flows; takes it over once the first went quiet', async () => {
    const { r, port, events, conn } = await receiver({ takeoverIdleMs: 300 });
    const key = newSrtpParams();
    r.setStream('cam', { srtpKey: key });
    const first = await sender(key, 1);
    const second = await sender(key, 2);
    first.send(port, 1);
    await waitFor('first', () => conn());
    second.send(port, 50);
    await waitFor('refused', () => r.stats(conn()!.id)?.refusedSources === 1);
    // Held off: its next packets are not even tried.
    second.send(port, 51);
    await waitFor('held', () => r.counters().refused >= 2);
    expect(events).toEqual(['connection cam']);
    await new Promise((res) => setTimeout(res, 350));
    const third = await sender(key, 3);
    third.send(port, 7);
    await waitFor('takeover', () => events.length === 3);
    expect(events.slice(1)).toEqual([
      'close cam: replaced by a new connection from the same encoder',
      'connection cam',
    ]);
  });

  it('counts a wrong key as unauthenticated, a forged packet with the live SSRC on the stream, a rotated key ends it', async () => {
    const { r, port, events, data, conn } = await receiver();
    const key = newSrtpParams();
    r.setStream('cam', { srtpKey: key });
    const good = await sender(key, 9);
    const forger = await sender(newSrtpParams(), 9);
    good.send(port, 1);
    await waitFor('live', () => conn());
    forger.send(port, 2);
    forger.send(port, 3);
    await waitFor('counted', () => r.counters().unauthenticated === 2);
    expect(r.stats(conn()!.id)?.authFailures).toBe(2);
    expect(data.length).toBe(1);
    r.setStream('cam', { srtpKey: newSrtpParams() });
    expect(events.at(-1)).toBe('close cam: SRTP key rotated');
  });
});

describe('a sender whose SRTP rollover counter is past 0 (it sent for minutes before this task saw it)', () => {
  it('is found by the ROC scan, and its next publish after a silence starts at the ROC it had reached', async () => {
    const { r, port, events, data, conn } = await receiver({ silenceMs: 200 });
    const key = newSrtpParams();
    r.setStream('cam', { srtpKey: key });
    const late = await sender(key, 5, 3);
    late.send(port, 65534);
    late.send(port, 65535);
    late.send(port, 0);
    await waitFor('learned at ROC 3', () => data.length > 0 && conn());
    await waitFor('after the wrap', () => r.stats(conn()!.id)?.packetsReceived === 3);
    await waitFor('silence', () => events.length === 2);
    // ROC 4 now: the hint, not the scan budget, finds it.
    late.send(port, 1);
    await waitFor('again', () => events.length === 3);
    expect(events).toEqual(['connection cam', 'close cam: silence: no RTP for 0.2 s', 'connection cam']);
  });
});

describe('trial rate limit per source address', () => {
  it('allows the burst, then the rate, and forgets the least recent source beyond its bound', () => {
    const limit = new SourceRateLimit(10, 3, 2);
    expect([1, 2, 3, 4].map(() => limit.take('a', 0))).toEqual([true, true, true, false]);
    expect(limit.take('a', 100)).toBe(true);
    expect(limit.take('a', 100)).toBe(false);
    limit.take('b', 100);
    limit.take('c', 100);
    expect(limit.size).toBe(2);
    // 'a' was forgotten: a full bucket again.
    expect([1, 2, 3].every(() => limit.take('a', 100))).toBe(true);
  });
});
