import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, REJECT, SRT_REJ } from '../../containers/ingest/src/srt/native.js';
import { SrtListener, type SrtRejection } from '../../containers/ingest/src/srt/server.js';
import { hashPublishKey } from '../../core/streams/secrets.js';
import { freeUdpPort, makeClip, pushSrt, waitFor } from './media.js';

const KEY = 'k-0123456789abcdef';
const PASS = 'correct horse battery';

describe("streamid parsing (native, as libsrt's listen callback runs it)", () => {
  const parse = (raw: string) => loadNative().parseStreamId(raw);
  const printable = (options: { minLength?: number; maxLength: number }) =>
    fc.string({ ...options, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });

  it('reads the access-control syntax with s= or u=', () => {
    expect(parse(`#!::r=cam-1,m=publish,s=${KEY}`)).toMatchObject({
      ok: true,
      streamId: 'cam-1',
      publishKey: KEY,
      mode: 'publish',
    });
    expect(parse(`#!::u=${KEY},r=cam-1`)).toMatchObject({ ok: true, streamId: 'cam-1', publishKey: KEY });
    expect(parse('#!::r=cam-1,m=request,s=x')).toMatchObject({ ok: true, mode: 'request' });
  });

  it('takes anything else printable as a plain publish key', () => {
    expect(parse(KEY)).toMatchObject({ ok: true, streamId: '', publishKey: KEY, mode: 'publish' });
    fc.assert(
      fc.property(printable({ minLength: 1, maxLength: 512 }), (raw) => {
        fc.pre(!raw.startsWith('#!'));
        expect(parse(raw)).toMatchObject({ ok: true, streamId: '', publishKey: raw, mode: 'publish' });
      }),
      { numRuns: 500 },
    );
  });

  it('reads back any r= and s= values that hold no comma', () => {
    const value = printable({ minLength: 1, maxLength: 40 }).filter((v) => !v.includes(','));
    fc.assert(
      fc.property(value, value, (id, key) => {
        expect(parse(`#!::r=${id},s=${key}`)).toMatchObject({ ok: true, streamId: id, publishKey: key });
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(513), 'longer than 512'],
    ['key\u0001', 'printable ASCII'],
    ['kéy', 'printable ASCII'],
    ['#!r=a,s=b', 'not #!::'],
    ['#!::r=a', 'no s= or u='],
    ['#!::s=a', 'no r='],
    ['#!::r=a,r=b,s=c', 'repeated'],
    ['#!::r=a,x=1,s=c', 'not supported'],
    ['#!::r=a,s=', 'empty value'],
    ['#!::r=a,,s=b', 'not key=value'],
    ['#!::r=a,s=b,t=file', 't= must be stream'],
  ])('refuses %j (%s)', (raw, reason) => {
    const parsed = parse(raw);
    expect(parsed.ok).toBe(false);
    expect(parsed.reason).toContain(reason);
  });
});

describe('SRT listener over loopback (real libsrt)', () => {
  let listener: SrtListener;
  let port: number;
  const rejects: SrtRejection[] = [];
  let opened = 0;
  let closed = 0;
  /** Every connection the listener accepted so far has also been closed (the accept event may trail the probe). */
  const allClosed = (expectedOpened: number) =>
    waitFor(
      `${expectedOpened} connections opened and closed`,
      () => opened >= expectedOpened && closed === opened,
    );
  const native = loadNative();
  const probe = (
    streamId: string,
    extra: { passphrase?: string; holdMs?: number; keyLength?: number } = {},
  ) => native.probe({ host: '127.0.0.1', port, streamId, timeoutMs: 2000, ...extra });

  beforeAll(async () => {
    port = await freeUdpPort();
    listener = new SrtListener({ port, host: '127.0.0.1', maxConnections: 4 });
    listener.on('reject', (r) => rejects.push(r));
    listener.on('connection', () => opened++);
    listener.on('close', () => closed++);
    listener.setStream('cam-1', { publishKeyHash: hashPublishKey(KEY), passphrase: PASS, keyLength: 16 });
    listener.setStream('cam-2', {
      publishKeyHash: hashPublishKey(`${KEY}-2`),
      passphrase: null,
      keyLength: 16,
    });
    listener.setStream('cam-3', {
      publishKeyHash: hashPublishKey(`${KEY}-3`),
      passphrase: PASS,
      keyLength: 32,
    });
    listener.listen();
  });
  afterAll(async () => {
    await listener?.stop();
  });

  it('accepts the right passphrase and refuses a wrong or missing one (libsrt checks the key material)', async () => {
    expect(await probe(`#!::r=cam-1,m=publish,s=${KEY}`, { passphrase: PASS })).toMatchObject({
      connected: true,
    });
    await allClosed(1);
    expect(await probe(`#!::r=cam-1,m=publish,s=${KEY}`, { passphrase: 'wrong passphrase!' })).toMatchObject({
      connected: false,
      rejectReason: SRT_REJ.BADSECRET,
    });
    expect(await probe(`#!::r=cam-1,m=publish,s=${KEY}`)).toMatchObject({
      connected: false,
      rejectReason: SRT_REJ.UNSECURE,
    });
    expect(await probe(`#!::r=cam-3,s=${KEY}-3`, { passphrase: PASS, keyLength: 32 })).toMatchObject({
      connected: true,
    });
  });

  it('rejects unknown, malformed, wrong-key and wrong-mode streamids with SRT_REJX codes', async () => {
    expect((await probe(`#!::r=nope,s=${KEY}`)).rejectReason).toBe(REJECT.NOT_FOUND);
    expect((await probe('some-unknown-plain-key')).rejectReason).toBe(REJECT.NOT_FOUND);
    expect((await probe('#!::r=cam-2')).rejectReason).toBe(REJECT.BAD_REQUEST);
    expect((await probe(`#!::r=cam-2,s=${KEY}`)).rejectReason).toBe(REJECT.UNAUTHORIZED);
    expect((await probe(`#!::r=cam-2,m=request,s=${KEY}-2`)).rejectReason).toBe(REJECT.BAD_MODE);
    expect(await probe(`${KEY}-2`)).toMatchObject({ connected: true });
    const logged = rejects.map((r) => JSON.stringify(r)).join('\n');
    expect(logged).not.toContain(KEY);
    expect(rejects.map((r) => r.code)).toEqual(
      expect.arrayContaining([REJECT.NOT_FOUND, REJECT.BAD_REQUEST, REJECT.UNAUTHORIZED, REJECT.BAD_MODE]),
    );
  });

  it('refuses a second publisher while the first is connected, and capacity beyond maxConnections', async () => {
    await allClosed(3);
    const first = probe(`${KEY}-2`, { holdMs: 1500 });
    await waitFor('first publisher', () => listener.connectionCount === 1);
    expect((await probe(`${KEY}-2`)).rejectReason).toBe(REJECT.CONFLICT);
    listener.setMaxConnections(1);
    expect((await probe(`#!::r=cam-1,s=${KEY}`, { passphrase: PASS })).rejectReason).toBe(REJECT.OVERLOAD);
    listener.setMaxConnections(4);
    expect((await first).connected).toBe(true);
    await allClosed(4);
    expect(await probe(`${KEY}-2`)).toMatchObject({ connected: true });
  });

  it('delivers an encrypted ffmpeg feed as MPEG-TS buffers, with statistics, and reports the close', async () => {
    const clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 1 });
    const chunks: Buffer[] = [];
    const closed: string[] = [];
    const onData = (_c: unknown, data: Buffer) => chunks.push(data);
    listener.on('data', onData);
    listener.on('close', (c, reason) => closed.push(`${c.streamId}:${reason}`));
    // This stream's connection: under load a previous test's probe connection can still be reported late.
    const connected = new Promise<number>((resolve) => {
      const onConnection = (c: { id: number; streamId: string }) => {
        if (c.streamId !== 'cam-1') return;
        listener.off('connection', onConnection);
        resolve(c.id);
      };
      listener.on('connection', onConnection);
    });
    const pusher = pushSrt({ clip, port, streamId: `#!::r=cam-1,m=publish,s=${KEY}`, passphrase: PASS });
    const conn = await connected;
    await waitFor('100 KB of TS', () => chunks.reduce((n, c) => n + c.length, 0) > 100_000).catch((e) => {
      throw new Error(`${e.message}: got ${chunks.length} chunks; ffmpeg: ${pusher.stderr()}`);
    });
    const all = Buffer.concat(chunks);
    for (let i = 0; i < 50; i++) expect(all[i * 188]).toBe(0x47);
    const stats = listener.stats(conn);
    expect(stats).toMatchObject({ packetsDropped: 0, queueDroppedBytes: 0 });
    expect(stats?.bytesReceived).toBeGreaterThan(100_000);
    expect(stats?.rttMs).toBeGreaterThanOrEqual(0);
    await pusher.stop();
    await waitFor('close', () => closed.find((c) => c.startsWith('cam-1:')), 10_000);
    listener.off('data', onData);
  });

  it('refuses new callers while draining (SRT_REJX_DOWN)', async () => {
    listener.setAccepting(false);
    expect((await probe(`${KEY}-2`)).rejectReason).toBe(REJECT.DOWN);
    listener.setAccepting(true);
  });
});
