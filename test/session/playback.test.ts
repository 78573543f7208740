import { describe, expect, it } from 'vitest';
import { LONGEST_SILENCE_MS } from '../../core/sessions/heartbeat-policy.js';
import { type EdgeKeyStore, runKeyAction } from '../../core/sessions/playback-key-rotation.js';
import {
  ACTIVATION_DELAY_MS,
  PLAYBACK_TOKEN_TTL_S,
  parseRing,
  RETIRE_AFTER_MS,
  signingKey,
} from '../../core/sessions/playback-keys.js';
import { type CfEvent, isCfResponse, loadPlaybackFunction } from '../../core/sessions/playback-runner.js';
import { signPlaybackToken } from '../../core/sessions/token.js';

const KEY_A = { kid: 'kida0001', secret: 'playback-key-a-0123456789abcdefghijklmnopq' };
const KEY_B = { kid: 'kidb0002', secret: 'playback-key-b-0123456789abcdefghijklmnopq' };
const SESSION = 'AbCdEfGhIjKlMn_-';

/** The CloudFront Function's own source, run by the same runner the local edge uses, over a KeyValueStore map. */
function edgeWith(store: Map<string, string>) {
  return loadPlaybackFunction((key) => store.get(key), 'kvs-1234');
}
const storeOf = (...keys: { kid: string; secret: string }[]) =>
  new Map(keys.map((k) => [`playback-key-${k.kid}`, k.secret]));

const event = (uri: string, cookie?: string, query?: string): CfEvent => ({
  version: '1.0',
  context: { eventType: 'viewer-request', distributionId: 'TEST', requestId: '1' },
  viewer: { ip: '127.0.0.1' },
  request: {
    method: 'GET',
    headers: {},
    uri,
    cookies: cookie ? { mirror_play: { value: cookie } } : {},
    querystring: query ? { token: { value: query }, _HLS_msn: { value: '5' } } : {},
  },
});

const now = () => Math.floor(Date.now() / 1000);
const tokenFor = (stream: string, key = KEY_A, exp = now() + 60) =>
  signPlaybackToken(key, SESSION, stream, exp);

describe('the playback CloudFront Function (D37)', () => {
  const edge = edgeWith(storeOf(KEY_A));
  const allowed = async (e: CfEvent, run = edge) => !isCfResponse(await run(e));

  it('lets a stream token fetch that stream by cookie or query, and strips the query token', async () => {
    const token = tokenFor('cam-1');
    expect(await allowed(event('/cam-1/360p/playlist.m3u8', token))).toBe(true);
    const viaQuery = event('/cam-1/360p/abc/part-1-0.m4s', undefined, token);
    const passed = await edge(viaQuery);
    expect(isCfResponse(passed)).toBe(false);
    expect(Object.keys((passed as CfEvent['request']).querystring)).toEqual(['_HLS_msn']);
  });

  it("refuses stream A's token on stream B's playlists and media", async () => {
    const token = tokenFor('cam-1');
    for (const uri of [
      '/cam-2/master.m3u8',
      '/cam-2/360p/playlist.m3u8',
      '/cam-2/360p/b/seg-1.m4s',
      '/cam-2/360p/b/init-1.mp4',
      // The DVR window's playlists and segments (D43).
      '/cam-2/dvr.m3u8',
      '/cam-2/360p/dvr.m3u8',
      '/cam-2/360p/b/dvr-1.m4s',
    ]) {
      expect(await allowed(event(uri, token)), uri).toBe(false);
      expect(await allowed(event(uri, undefined, token)), uri).toBe(false);
    }
    // A prefix of another stream's id is another stream.
    expect(await allowed(event('/cam-10/360p/playlist.m3u8', token))).toBe(false);
  });

  it('refuses //, dot segments, encoded separators and any non-canonical path before reading the stream', async () => {
    const token = tokenFor('cam-1');
    for (const uri of [
      '//cam-1/360p/playlist.m3u8',
      '/cam-1//360p/playlist.m3u8',
      '/cam-1/../cam-2/360p/playlist.m3u8',
      '/cam-1/./360p/playlist.m3u8',
      '/cam-1/360p/..%2f..%2fcam-2/playlist.m3u8',
      '/cam-1%2F..%2Fcam-2/360p/playlist.m3u8',
      '/cam-1%5c..%5ccam-2/360p/playlist.m3u8',
      '/cam-1\\..\\cam-2/360p/playlist.m3u8',
      '/CAM-1/360p/playlist.m3u8',
    ]) {
      expect(await allowed(event(uri, token)), uri).toBe(false);
    }
    // ... while the canonical form passes.
    expect(await allowed(event('/cam-1/master.m3u8', token))).toBe(true);
    // The grammar of the first segment is the stream id's: a path without one is refused too.
    expect(await allowed(event('/-x/360p/playlist.m3u8', tokenFor('cam-1')))).toBe(false);
  });

  it('refuses forged, expired, tampered and unknown-kid tokens, and fails closed on an empty store', async () => {
    const token = tokenFor('cam-1');
    const sig = token.slice(-43);
    const forged = `${token.slice(0, -43)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect(await allowed(event('/cam-1/master.m3u8', forged))).toBe(false);
    expect(await allowed(event('/cam-1/master.m3u8', tokenFor('cam-1', KEY_A, now() - 1)))).toBe(false);
    // Another stream written into a valid token: the signature covers it.
    expect(await allowed(event('/cam-2/master.m3u8', token.replace('.cam-1.', '.cam-2.')))).toBe(false);
    // Signed with a key the store does not hold (its kid is unknown), or with the right kid and the wrong key.
    expect(await allowed(event('/cam-1/master.m3u8', tokenFor('cam-1', KEY_B)))).toBe(false);
    expect(await allowed(event('/cam-1/master.m3u8', tokenFor('cam-1', { ...KEY_B, kid: KEY_A.kid })))).toBe(
      false,
    );
    expect(await allowed(event('/cam-1/master.m3u8', tokenFor('cam-1')), edgeWith(new Map()))).toBe(false);
    // The first protection's token format is not accepted.
    expect(await allowed(event('/cam-1/master.m3u8', `p1.${now() + 60}.cam-1.${sig}`))).toBe(false);
  });

  it('compares signatures in constant time: every character, wherever the first difference is', async () => {
    const token = tokenFor('cam-1');
    const head = token.slice(0, -43);
    const sig = token.slice(-43);
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    const wrongFirst = `${head}${flip(sig[0] as string)}${sig.slice(1)}`;
    const wrongLast = `${head}${sig.slice(0, -1)}${flip(sig.at(-1) as string)}`;
    const original = String.prototype.charCodeAt;
    let calls = 0;
    String.prototype.charCodeAt = function (this: string, i: number) {
      calls++;
      return original.call(this, i);
    };
    const count = async (t: string) => {
      calls = 0;
      const refused = isCfResponse(await edge(event('/cam-1/master.m3u8', t)));
      return { refused, calls };
    };
    try {
      const first = await count(wrongFirst);
      const last = await count(wrongLast);
      const right = await count(token);
      // Same-length wrong signatures are refused; the comparison reads all 43 characters of both every time.
      expect(first).toEqual({ refused: true, calls: 86 });
      expect(last).toEqual({ refused: true, calls: 86 });
      expect(right).toEqual({ refused: false, calls: 86 });
    } finally {
      String.prototype.charCodeAt = original;
    }
  });
});

describe('key rotation with overlap (D37)', () => {
  const ring = () => {
    let secret: string | undefined;
    const store = new Map<string, string>();
    const edge: EdgeKeyStore = {
      playbackKeys: async () => new Map(store),
      update: async (puts, deletes) => {
        for (const [k, v] of puts) store.set(k, v);
        for (const k of deletes) store.delete(k);
      },
    };
    let clock = Date.parse('2026-12-01T00:00:00Z');
    let seed = 1;
    const deps = {
      secret: {
        read: async () => secret,
        write: async (t: string) => {
          secret = t;
        },
      },
      edge,
      now: () => clock,
      random: (n: number) =>
        Uint8Array.from({ length: n }, () => {
          seed = (seed * 48271) % 2147483647;
          return seed & 255;
        }),
      rotateAfterMs: 30 * 86_400_000,
    };
    return {
      deps,
      store,
      advance: (ms: number) => {
        clock += ms;
      },
      signer: () => signingKey(parseRing(secret), clock),
      at: () => clock,
    };
  };

  it('keeps tokens of the old key valid until they expire, then retires it from the ring and the store', async () => {
    const r = ring();
    await runKeyAction('maintain', r.deps);
    const first = r.signer();
    expect(first).toBeDefined();
    expect([...r.store.keys()]).toEqual([`playback-key-${first?.kid}`]);
    const rotated = await runKeyAction('rotate', r.deps);
    expect('added' in rotated && rotated.added).toBeTruthy();
    // The new key is in the store at once, but signs only ACTIVATION_DELAY_MS later.
    expect(r.store.size).toBe(2);
    expect(r.signer()?.kid).toBe(first?.kid);
    // A second rotation during the overlap is refused (never three keys).
    expect(await runKeyAction('rotate', r.deps)).toMatchObject({ refused: 'rotation_in_progress' });
    r.advance(ACTIVATION_DELAY_MS);
    const second = r.signer();
    expect(second?.kid).not.toBe(first?.kid);
    // The old key's last token (signed just before the switch) stays valid: the upkeep keeps the key.
    r.advance(PLAYBACK_TOKEN_TTL_S * 1000);
    await runKeyAction('maintain', r.deps);
    expect(r.store.has(`playback-key-${first?.kid}`)).toBe(true);
    r.advance(RETIRE_AFTER_MS - PLAYBACK_TOKEN_TTL_S * 1000);
    const upkeep = await runKeyAction('maintain', r.deps);
    expect(upkeep).toMatchObject({ retired: [first?.kid] });
    expect([...r.store.keys()]).toEqual([`playback-key-${second?.kid}`]);
    expect(RETIRE_AFTER_MS).toBeGreaterThan(PLAYBACK_TOKEN_TTL_S * 1000);
    expect(PLAYBACK_TOKEN_TTL_S * 1000).toBeGreaterThan(LONGEST_SILENCE_MS);
  });

  it('rotates on schedule after rotateAfterMs, and a deploy refills an emptied store from the ring', async () => {
    const r = ring();
    await runKeyAction('maintain', r.deps);
    const first = r.signer()?.kid;
    r.advance(29 * 86_400_000);
    expect(await runKeyAction('maintain', r.deps)).not.toHaveProperty('added');
    r.advance(86_400_000);
    expect(await runKeyAction('maintain', r.deps)).toHaveProperty('added');
    // A replaced KeyValueStore (empty) gets the ring's keys back on the next run; the ring is unchanged.
    r.store.clear();
    await runKeyAction('maintain', r.deps);
    expect(r.store.size).toBe(2);
    expect(r.signer()?.kid).toBe(first);
  });
});
