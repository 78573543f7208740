import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { streamKeys } from '../../core/streams/keys.js';
import { openPassphrase, openSrtpKey, processDataKeys, StreamSecret } from '../../core/streams/secrets.js';
import type { createControlApp } from '../../functions/control/app.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

/** RTP streams through the control API (issue 15, decision D46): credentials once, SDP, rotation, replay. */
describe('control API: RTP streams', () => {
  let redis: Redis;
  let app: ReturnType<typeof createControlApp>;
  useRedisServer(async (_server, client) => {
    redis = client;
    app = controlApp(redis, { rtpPort: 5004 });
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  const create = (body: Record<string, unknown>) => call(app, request('POST', '/api/control/streams', body));
  const storedSecret = async (id: string) =>
    StreamSecret.parse(JSON.parse((await redis.get(streamKeys.secret(id))) as string));

  it('creates an SRTP stream: the key, destination and command once, the key sealed apart from the passphrase', async () => {
    const created = await create({ id: 'cam', name: 'Cam', protocol: 'rtp' });
    expect(created.status).toBe(201);
    const { stream, credentials } = created.json;
    expect(stream).toMatchObject({
      protocol: 'rtp',
      rtp: { payload: 'mp2t' },
      encrypted: true,
      keyLength: 16,
    });
    expect(credentials.srtpKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(Buffer.from(credentials.srtpKey, 'base64')).toHaveLength(30);
    expect(credentials).toMatchObject({
      srtpSuite: 'AES_CM_128_HMAC_SHA1_80',
      rtpUrl: 'rtp://ingest.example.net:5004',
    });
    // No SRT credentials for an RTP stream, and no SDP for MPEG-TS (it describes itself).
    expect(credentials).not.toHaveProperty('publishKey');
    expect(credentials).not.toHaveProperty('srtUrl');
    expect(credentials).not.toHaveProperty('sdp');
    expect(credentials.ffmpeg).toContain(`-f rtp_mpegts -srtp_out_suite AES_CM_128_HMAC_SHA1_80`);
    expect(credentials.ffmpeg).toContain(
      `-srtp_out_params ${credentials.srtpKey} srtp://ingest.example.net:5004`,
    );

    const secret = await storedSecret('cam');
    expect(secret.passphrase).toBeNull();
    expect(secret.srtp).not.toBeNull();
    const envelope = secret.srtp as NonNullable<typeof secret.srtp>;
    expect(await openSrtpKey(processDataKeys, 'cam', envelope)).toBe(credentials.srtpKey);
    // Nothing secret in the public record; a read shows no credentials.
    expect(await redis.get(streamKeys.record('cam'))).not.toContain(credentials.srtpKey);
    const got = await call(app, request('GET', '/api/control/streams/cam'));
    expect(got.json).not.toHaveProperty('credentials');
    expect(JSON.stringify(got.json)).not.toContain(credentials.srtpKey);
  });

  it('answers the SDP for H.264: video PT 96 and AAC PT 97 to the RTP port, with the SRTP key', async () => {
    const { json } = await create({ id: 'h', name: 'H', protocol: 'rtp', rtp: { payload: 'h264' } });
    const sdp: string = json.credentials.sdp;
    const lines = sdp.split('\r\n');
    expect(sdp.endsWith('\r\n')).toBe(true);
    expect(lines).toEqual(
      expect.arrayContaining([
        'c=IN IP4 ingest.example.net',
        'm=video 5004 RTP/SAVP 96',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1',
        'm=audio 5004 RTP/SAVP 97',
        'a=rtpmap:97 mpeg4-generic/48000/2',
        'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
        `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${json.credentials.srtpKey}`,
      ]),
    );
    // The command sends each medium with the SDP's payload type.
    expect(json.credentials.ffmpeg).toMatch(
      /-map 0:v:0 .* -f rtp -payload_type 96 .*-map 1:a:0 .* -payload_type 97/,
    );
    const hevc = await create({ id: 'h2', name: 'H', protocol: 'rtp', rtp: { payload: 'hevc' } });
    expect(hevc.json.credentials.sdp).toContain('a=rtpmap:96 H265/90000');
    expect(hevc.json.credentials.ffmpeg).toContain('-c:v libx265');
  });

  it('plain RTP only with a valid source allow-list: no key, RTP/AVP, and 4xx naming the field otherwise', async () => {
    const plain = await create({
      id: 'p',
      name: 'P',
      protocol: 'rtp',
      rtp: { payload: 'h264', plainSources: ['192.0.2.0/24', '2001:db8::1'] },
    });
    expect(plain.status).toBe(201);
    expect(plain.json.stream).toMatchObject({
      encrypted: false,
      rtp: { plainSources: ['192.0.2.0/24', '2001:db8::1'] },
    });
    expect(plain.json.credentials.srtpKey).toBeNull();
    expect(plain.json.credentials).not.toHaveProperty('srtpSuite');
    expect(plain.json.credentials.sdp).toContain('m=video 5004 RTP/AVP 96');
    expect(plain.json.credentials.sdp).not.toContain('a=crypto');
    expect(plain.json.credentials.ffmpeg).not.toContain('srtp');
    expect((await storedSecret('p')).srtp).toBeNull();

    for (const plainSources of [
      ['not-an-ip'],
      ['300.1.1.1'],
      ['10.0.0.0/33'],
      [],
      Array(17).fill('192.0.2.1'),
    ]) {
      const refused = await create({ name: 'x', protocol: 'rtp', rtp: { payload: 'mp2t', plainSources } });
      expect(refused.status, JSON.stringify(plainSources)).toBe(400);
      expect(refused.json.field).toMatch(/^rtp\.plainSources(\.\d+)?$/);
    }
    const bad = await create({ name: 'x', protocol: 'rtp', rtp: { payload: 'vp8' } });
    expect([bad.status, bad.json.field]).toEqual([400, 'rtp.payload']);
    const srt = await create({ name: 'x', protocol: 'srt', rtp: { payload: 'mp2t' } });
    expect([srt.status, srt.json.field]).toEqual([400, 'rtp']);
    const protocol = await create({ name: 'x', protocol: 'udp' });
    expect([protocol.status, protocol.json.field]).toEqual([400, 'protocol']);
    expect(await redis.zcard(streamKeys.index)).toBe(1);
  });

  it('rotates the SRTP key like the passphrase: a new key once, the old one no longer opens', async () => {
    const first = (await create({ id: 'r', name: 'R', protocol: 'rtp', rtp: { payload: 'hevc' } })).json;
    const before = await storedSecret('r');
    const rotated = await call(app, request('POST', '/api/control/streams/r/rotate', {}));
    expect(rotated.status).toBe(200);
    const key = rotated.json.credentials.srtpKey;
    expect(key).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(key).not.toBe(first.credentials.srtpKey);
    expect(rotated.json.credentials.sdp).toContain(`inline:${key}`);
    expect(rotated.json.credentials).not.toHaveProperty('publishKey');
    const after = await storedSecret('r');
    expect(after.generation).toBe(before.generation + 1);
    expect(after.publishKeyHash).toBe(before.publishKeyHash);
    expect(await openSrtpKey(processDataKeys, 'r', after.srtp as NonNullable<typeof after.srtp>)).toBe(key);
    expect(rotated.json.stream.encrypted).toBe(true);

    const none = await call(app, request('POST', '/api/control/streams/r/rotate', { srtpKey: false }));
    expect([none.status, none.json.field]).toEqual([400, 'srtpKey']);
    // A plain-RTP stream has no key to rotate.
    await create({
      id: 'plain',
      name: 'P',
      protocol: 'rtp',
      rtp: { payload: 'mp2t', plainSources: ['192.0.2.7'] },
    });
    const conflict = await call(app, request('POST', '/api/control/streams/plain/rotate', {}));
    expect([conflict.status, conflict.json.field]).toEqual([409, 'srtpKey']);
    // An SRT stream asked for the SRTP key alone has nothing to rotate.
    await create({ id: 'srt', name: 'S' });
    const srtOnly = await call(
      app,
      request('POST', '/api/control/streams/srt/rotate', {
        publishKey: false,
        passphrase: false,
        srtpKey: true,
      }),
    );
    expect([srtOnly.status, srtOnly.json.field]).toEqual([400, 'publishKey']);
    // ...and an SRT stream's rotation stays what it was: no SRTP field appears in its secret.
    const srtRotated = await call(app, request('POST', '/api/control/streams/srt/rotate', {}));
    expect(srtRotated.json.credentials.srtUrl).toContain('srt://ingest.example.net:9000');
    expect(srtRotated.json.credentials).not.toHaveProperty('srtpKey');
    expect(await storedSecret('srt')).not.toHaveProperty('srtp');
  });

  it('a clientToken replay returns the stream without credentials', async () => {
    const body = { name: 'Replay', protocol: 'rtp', rtp: { payload: 'h264' }, clientToken: 'token-rtp-1' };
    const first = await create(body);
    expect(first.status).toBe(201);
    const replay = await create(body);
    expect(replay.status).toBe(200);
    expect(replay.json.stream.id).toBe(first.json.stream.id);
    expect(replay.json).not.toHaveProperty('credentials');
    expect(JSON.stringify(replay.json)).not.toContain(first.json.credentials.srtpKey);
  });

  it('the two seals do not stand in for each other (distinct GCM contexts)', async () => {
    await create({ id: 'mix', name: 'M', protocol: 'rtp' });
    const { srtp } = await storedSecret('mix');
    const envelope = srtp as NonNullable<typeof srtp>;
    // Moved into the passphrase's field, the SRTP envelope does not open as a passphrase.
    await expect(openPassphrase(processDataKeys, 'mix', envelope)).rejects.toThrow();
    await expect(openSrtpKey(processDataKeys, 'other', envelope)).rejects.toThrow();
  });
});
