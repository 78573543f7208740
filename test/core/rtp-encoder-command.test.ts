import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { deriveSessionKeys, parseSrtpParams, srtpAuthenticates } from '../../core/rtp/srtp.js';
import {
  encoderArgs,
  encoderCommand,
  encoderSdp,
  renderSdp,
  shellQuote,
} from '../../core/streams/rtp-sdp.js';
import { newSrtpKey } from '../../core/streams/secrets.js';

/** One second of test pattern and tone: short inputs so each ffmpeg run ends by itself. */
const SHORT_INPUT = [
  ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=1'],
  ...['-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=1'],
];

/** Runs the command the control API hands out against a UDP socket: payload type -> packets received. */
async function send(payload: 'mp2t' | 'h264', srtpKey: string | null) {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const packets: Buffer[] = [];
  socket.on('message', (packet) => packets.push(packet));
  const destination = { host: '127.0.0.1', port: socket.address().port };
  const args = encoderArgs({ streamId: 's', payload, destination, srtpKey }, SHORT_INPUT);
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], {
    stdio: 'ignore',
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 50));
  socket.close();
  return { code, packets };
}

describe('the RTP encoder command and SDP (decision D46)', () => {
  it('sends MPEG-TS over SRTP that the ingest’s SRTP code authenticates with the issued key (real ffmpeg)', async () => {
    const key = newSrtpKey();
    const { code, packets } = await send('mp2t', key);
    expect(code).toBe(0);
    expect(packets.length).toBeGreaterThan(20);
    const keys = deriveSessionKeys(parseSrtpParams(key));
    expect(packets.every((p) => ((p[1] as number) & 0x7f) === 33)).toBe(true);
    expect(packets.every((p) => srtpAuthenticates(keys, p, 0))).toBe(true);
    // And not with another key: the tag is the key's, not a fixed trailer.
    const other = deriveSessionKeys(parseSrtpParams(newSrtpKey()));
    expect(packets.some((p) => srtpAuthenticates(other, p, 0))).toBe(false);
  });

  it('sends H.264 as PT 96 and AAC as PT 97 to the one port, as the SDP says (real ffmpeg)', async () => {
    const key = newSrtpKey();
    const { code, packets } = await send('h264', key);
    expect(code).toBe(0);
    const types = new Set(packets.map((p) => (p[1] as number) & 0x7f));
    expect([...types].sort()).toEqual([96, 97]);
    const keys = deriveSessionKeys(parseSrtpParams(key));
    expect(packets.every((p) => srtpAuthenticates(keys, p, 0))).toBe(true);
    const sdp = renderSdp(
      encoderSdp({
        streamId: 's',
        payload: 'h264',
        destination: { host: '127.0.0.1', port: 5004 },
        srtpKey: key,
      })!,
    );
    expect(sdp).toMatch(/m=video 5004 RTP\/SAVP 96\r\n/);
    expect(sdp).toMatch(/m=audio 5004 RTP\/SAVP 97\r\n/);
  });

  it('sends plain RTP with no SRTP trailer when no key is issued (real ffmpeg)', async () => {
    const { code, packets } = await send('mp2t', null);
    expect(code).toBe(0);
    // RFC 2250: whole 188-byte TS packets after the 12-byte header, nothing after them.
    expect(packets.every((p) => (p.length - 12) % 188 === 0)).toBe(true);
  });

  it('renders IPv6 hosts as IP6 and bracketed URLs, and quotes only what a shell would split', () => {
    const settings = {
      streamId: 's',
      payload: 'hevc' as const,
      destination: { host: '2001:db8::5', port: 5004 },
      srtpKey: null,
    };
    const sdp = renderSdp(encoderSdp(settings)!);
    expect(sdp).toContain('c=IN IP6 2001:db8::5\r\n');
    expect(sdp).toContain('a=rtpmap:96 H265/90000\r\n');
    expect(sdp).not.toContain('a=fmtp:96');
    expect(encoderSdp({ ...settings, payload: 'mp2t' })).toBeUndefined();
    // Brackets are shell glob characters: the URL is quoted.
    expect(encoderCommand(settings)).toMatch(/ 'rtp:\/\/\[2001:db8::5\]:5004'$/);
    expect(shellQuote('srtp://h:1')).toBe('srtp://h:1');
    expect(shellQuote("it's a b")).toBe(`'it'\\''s a b'`);
    expect(shellQuote('abc+/=')).toBe('abc+/=');
  });
});
