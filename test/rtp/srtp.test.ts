import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { mp2tPayload } from '../../core/rtp/mp2t.js';
import { buildRtpPacket, PAYLOAD_TYPE_MP2T, parseRtpHeader, payloadOf } from '../../core/rtp/packet.js';
import {
  aesCmXor,
  deriveSessionKeys,
  estimateRoc,
  parseSrtpParams,
  protectRtcp,
  SrtpReceiveContext,
  SrtpSendContext,
  unprotectRtcp,
} from '../../core/rtp/srtp.js';
import { freeUdpPort, makeClip } from '../ingest/media.js';
import { newSrtpParams, pushRtp } from './media.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');

describe('RFC 3711 test vectors', () => {
  it('B.2: the AES-CM keystream from the session key and salt', () => {
    const keys = {
      encryption: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
      salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
      auth: Buffer.alloc(20),
    };
    const stream = aesCmXor(keys, 0, 0, Buffer.alloc(48));
    expect(stream.toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0',
    );
  });

  it('B.3: key derivation of the cipher key, salt and authentication key', () => {
    const keys = deriveSessionKeys({
      key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
      salt: hex('0EC675AD498AFEEBB6960B3AABE6'),
    });
    expect(keys.encryption.toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(keys.salt.toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(keys.auth.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });
});

describe('SRTP receive context', () => {
  const master = parseSrtpParams(newSrtpParams());
  const keys = deriveSessionKeys(master);
  const packet = (seq: number, body = `payload ${seq}`) =>
    buildRtpPacket({
      payloadType: 96,
      sequence: seq,
      timestamp: seq * 3000,
      ssrc: 0x1234,
      payload: Buffer.from(body),
    });

  it('round-trips with a sender across a sequence-number rollover (ROC), header extension and padding kept', () => {
    const send = new SrtpSendContext(keys);
    const receive = new SrtpReceiveContext(keys);
    for (const seq of [65530, 65531, 65535, 0, 1, 2]) {
      const clear = buildRtpPacket({
        payloadType: 96,
        sequence: seq,
        timestamp: 1,
        ssrc: 7,
        csrcs: [1, 2],
        extension: { profile: 0xbede, words: [0xdeadbeef] },
        padding: 3,
        payload: Buffer.from(`p${seq}`),
      });
      const out = receive.unprotect(send.protect(clear));
      expect(out.ok && out.packet.equals(clear)).toBe(true);
      if (!out.ok) return;
      expect(out.index).toBe(seq < 100 ? 65536 + seq : seq);
      const header = parseRtpHeader(out.packet);
      expect(header.ok && payloadOf(out.packet, header.header)?.toString()).toBe(`p${seq}`);
    }
  });

  it('refuses a wrong key, a flipped bit, a replay and a packet older than the window, without moving its state', () => {
    const send = new SrtpSendContext(keys);
    const receive = new SrtpReceiveContext(keys);
    const other = new SrtpSendContext(deriveSessionKeys(parseSrtpParams(newSrtpParams())));
    const first = send.protect(packet(10));
    expect(receive.unprotect(first).ok).toBe(true);
    expect(receive.unprotect(first)).toEqual({ ok: false, reason: 'replay' });
    expect(receive.unprotect(other.protect(packet(11)))).toEqual({ ok: false, reason: 'auth' });
    const flipped = send.protect(packet(12));
    flipped[14]! ^= 1;
    expect(receive.unprotect(flipped)).toEqual({ ok: false, reason: 'auth' });
    // A forged packet moved nothing: the genuine 11 and 12 still pass.
    expect(receive.unprotect(send.protect(packet(11))).ok).toBe(true);
    expect(receive.unprotect(send.protect(packet(200))).ok).toBe(true);
    // 12 is 188 behind the highest now: outside the 64-packet window.
    expect(receive.unprotect(send.protect(packet(12)))).toEqual({ ok: false, reason: 'replay' });
    expect(receive.unprotect(send.protect(packet(150))).ok).toBe(true);
  });

  it('estimates the ROC as RFC 3711 Appendix A does', () => {
    expect(estimateRoc(3, 65500, 10)).toBe(4);
    expect(estimateRoc(3, 10, 65500)).toBe(2);
    expect(estimateRoc(3, 100, 90)).toBe(3);
  });

  it('SRTCP round trip with the SRTCP session keys', () => {
    const rtcpKeys = deriveSessionKeys(master, true);
    const rtcp = Buffer.from('81c90007deadbeef0011223344556677', 'hex');
    const protectedRtcp = protectRtcp(rtcpKeys, rtcp, 5);
    expect(protectedRtcp.subarray(8, 16).equals(rtcp.subarray(8))).toBe(false);
    expect(unprotectRtcp(rtcpKeys, protectedRtcp)).toEqual({ rtcp, index: 5 });
    expect(unprotectRtcp(keys, protectedRtcp)).toBeNull();
  });
});

describe('SRTP from real ffmpeg (srtp:// with -f rtp_mpegts)', () => {
  it('every packet authenticates and decrypts to whole TS packets that ffprobe reads as H.264 + AAC', async () => {
    const clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 1 });
    const params = newSrtpParams();
    const receive = new SrtpReceiveContext(deriveSessionKeys(parseSrtpParams(params)));
    const port = await freeUdpPort();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    const ts: Buffer[] = [];
    let failures = 0;
    socket.on('message', (msg) => {
      const out = receive.unprotect(msg);
      if (!out.ok) {
        failures += 1;
        return;
      }
      const parsed = parseRtpHeader(out.packet);
      expect(parsed.ok && parsed.header.payloadType).toBe(PAYLOAD_TYPE_MP2T);
      const payload = parsed.ok ? payloadOf(out.packet, parsed.header) : null;
      const extracted = payload ? mp2tPayload(payload) : null;
      if (extracted?.ok) ts.push(Buffer.from(extracted.ts));
      else failures += 1;
    });
    const pusher = pushRtp({ clip, port, srtp: params, loop: false });
    await pusher.exited;
    await new Promise((r) => setTimeout(r, 200));
    socket.close();
    expect(failures).toBe(0);
    expect(ts.length).toBeGreaterThan(20);
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-f', 'mpegts', '-'],
      { input: Buffer.concat(ts) },
    );
    // ffprobe lists each stream under its program too: the distinct codecs are what matter.
    expect([...new Set(probe.stdout.toString().split('\n').filter(Boolean))].sort()).toEqual(['aac', 'h264']);
  }, 30_000);
});
