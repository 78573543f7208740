import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { SessionRecord, SessionStore, sessionKey } from '../../core/adapters/sessions/store.js';
import { viewerCounts } from '../../core/adapters/sessions/viewers.js';
import type { createSessionApp } from '../../functions/session/app.js';
import { call } from '../control/helpers.js';
import type { RedisServer } from '../support/redis.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { createStreams, sessionApp, UNLIMITED, withToken } from './helpers.js';

/** The wall starts on s0..s24; PATCH i switches tile i to t<i>. */
const START = Array.from({ length: 25 }, (_, i) => `s${i}`);
const SWITCH = Array.from({ length: 20 }, (_, i) => `t${i}`);
const tile = { widthPx: 640, heightPx: 360, droppedFrames: 0, decodedFrames: 150 };

// Calls on one session that overlap (a heartbeat from one tab and a PATCH from another, a retried request)
// must not lose each other's changes: the session is read, changed and written back whole.
describe('concurrent calls on one session, against a real redis-server', () => {
  let server: RedisServer;
  let redis: Redis;
  let app: ReturnType<typeof createSessionApp>;

  useRedisServer((started, client) => {
    server = started;
    redis = client;
    app = sessionApp(redis, { rateLimit: UNLIMITED });
  });
  beforeEach(async () => {
    await redis.flushall();
    await createStreams(redis, [...START, ...SWITCH]);
  });

  const newWall = async () => {
    const created = await call(app, withToken('', 'POST', '/api/sessions', { layout: '5x5', tiles: START }));
    expect(created.status).toBe(201);
    return created.json as { sessionId: string; token: string };
  };
  const stored = async (id: string) =>
    SessionRecord.parse(JSON.parse((await redis.get(sessionKey(id))) ?? ''));
  const everyStream = [...START, ...SWITCH];
  const countsOf = (tiles: readonly (string | null)[]) => everyStream.map((s) => (tiles.includes(s) ? 1 : 0));

  it('20 PATCHes on different tiles interleaved with 20 heartbeats: every change answered 200 is kept', async () => {
    const { sessionId, token } = await newWall();
    const path = `/api/sessions/${sessionId}`;
    const calls = SWITCH.flatMap((streamId, index) => [
      call(app, withToken(token, 'PATCH', path, { tile: { index, streamId } })).then((r) => ({
        kind: 'patch',
        index,
        r,
      })),
      call(
        app,
        withToken(token, 'POST', `${path}/heartbeat`, {
          bandwidthKbps: 20_000 + index,
          tiles: Array(25).fill(tile),
        }),
      ).then((r) => ({ kind: 'heartbeat', index, r })),
    ]);
    const results = await Promise.all(calls);

    const ok = results.filter((c) => c.r.status === 200);
    const refused = results.filter((c) => c.r.status !== 200);
    for (const c of refused) {
      expect(c.r.status, JSON.stringify(c.r.json)).toBe(409);
      expect(c.r.json).toMatchObject({ error: 'conflict', field: 'sessionId' });
      expect(c.r.json.message).toContain(sessionId);
    }
    const patched = ok.filter((c) => c.kind === 'patch').map((c) => c.index);
    // Most get through within their retries (12 to 20 of the 20 PATCHes in runs here); 409s are what is left
    // under this much contention. A floor keeps the check below meaningful.
    expect(patched.length).toBeGreaterThanOrEqual(5);

    const final = await stored(sessionId);
    const expected = START.map((s, i) => (patched.includes(i) ? `t${i}` : s));
    expect(final.tiles).toEqual(expected);
    // Each 200 answered the record it wrote: its own tile, and nothing since undone in the final record.
    for (const c of ok.filter((c) => c.kind === 'patch')) {
      expect(c.r.json.tiles[c.index].streamId).toBe(`t${c.index}`);
    }
    // One write per call answered 200, plus the create.
    expect(final.version).toBe(1 + ok.length);
    // The last heartbeat that landed set the bandwidth; no older one wrote over it.
    const beats = ok.filter((c) => c.kind === 'heartbeat');
    if (beats.length > 0) expect(beats.map((c) => 20_000 + c.index)).toContain(final.bandwidthKbps);
    expect(await viewerCounts(redis, everyStream)).toEqual(countsOf(final.tiles));
  });

  it('a heartbeat in flight while the session is ended does not bring it back', async () => {
    const { sessionId, token } = await newWall();
    const path = `/api/sessions/${sessionId}`;
    const beats = Array.from({ length: 10 }, () =>
      call(
        app,
        withToken(token, 'POST', `${path}/heartbeat`, { bandwidthKbps: 20_000, tiles: Array(25).fill(tile) }),
      ),
    );
    const ended = call(app, withToken(token, 'DELETE', path));
    const results = await Promise.all([...beats, ended]);
    expect((await ended).status).toBe(204);
    for (const r of results.slice(0, -1)) expect([200, 404]).toContain(r.status);
    expect(await redis.exists(sessionKey(sessionId))).toBe(0);
    expect(await viewerCounts(redis, everyStream)).toEqual(everyStream.map(() => 0));
  });

  /**
   * The app on a client whose reads of the session are each followed by a write from another caller (a
   * second store on its own connection) before the read returns, for the first `times` reads: the write
   * the app then attempts always finds a newer record.
   */
  const overtakenApp = (times: number, interfere: (n: number, id: string) => Promise<void>) => {
    let reads = 0;
    const proxied = new Proxy(redis, {
      get(target, prop) {
        if (prop === 'get') {
          return async (key: string) => {
            const value = await target.get(key);
            if (key.startsWith(sessionKey('')) && reads < times)
              await interfere(++reads, key.slice(sessionKey('').length));
            return value;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return sessionApp(proxied);
  };
  const otherStore = () => new SessionStore(server.client());

  it('re-reads and re-applies a change that another call overtook, keeping both changes', async () => {
    const { sessionId, token } = await newWall();
    const other = otherStore();
    // Two other writes land between this PATCH's reads and its writes: tile 24 goes to t0, then to t1.
    const racing = overtakenApp(2, async (n, id) => {
      await other.update(id, (s) => ({ ...s, tiles: s.tiles.map((t, i) => (i === 24 ? `t${n - 1}` : t)) }));
    });
    const r = await call(
      racing,
      withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { tile: { index: 3, streamId: 't9' } }),
    );
    expect(r.status).toBe(200);
    expect(r.json.tiles[3].streamId).toBe('t9');
    expect(r.json.tiles[24].streamId).toBe('t1');
    const final = await stored(sessionId);
    expect(final.tiles[3]).toBe('t9');
    expect(final.tiles[24]).toBe('t1');
    expect(final.version).toBe(4);
    expect(await viewerCounts(redis, everyStream)).toEqual(countsOf(final.tiles));
  });

  it('answers 409 naming the session when other calls overtake every try, and changes nothing', async () => {
    const { sessionId, token } = await newWall();
    const other = otherStore();
    let interfered = 0;
    const racing = overtakenApp(Number.POSITIVE_INFINITY, async (_n, id) => {
      interfered++;
      await other.update(id, (s) => ({ ...s, bandwidthKbps: s.bandwidthKbps + 1 }));
    });
    const r = await call(
      racing,
      withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { tile: { index: 3, streamId: 't9' } }),
    );
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ error: 'conflict', field: 'sessionId' });
    expect(r.json.message).toContain(`session ${sessionId}`);
    // Five tries (the first on the record authorisation read), each overtaken.
    expect(interfered).toBe(5);
    const final = await stored(sessionId);
    expect(final.tiles[3]).toBe('s3');
    expect(final.version).toBe(1 + interfered);
    expect(await viewerCounts(redis, everyStream)).toEqual(countsOf(final.tiles));

    const beat = await call(
      racing,
      withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, {
        bandwidthKbps: 1,
        tiles: Array(25).fill(tile),
      }),
    );
    expect(beat.status).toBe(409);
    expect(beat.json.message).toContain(sessionId);
  });
});
