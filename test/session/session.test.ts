import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS, sessionKey } from '../../core/adapters/sessions/store.js';
import { viewerCounts } from '../../core/adapters/sessions/viewers.js';
import { type CfRequest, isCfResponse, loadPlaybackFunction } from '../../core/sessions/playback-runner.js';
import { signSessionToken } from '../../core/sessions/token.js';
import { streamKeys } from '../../core/streams/keys.js';
import type { createSessionApp } from '../../functions/session/app.js';
import { call, request } from '../control/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { createStreams, PROTECTED, playbackStore, SECRET, sessionApp, withToken } from './helpers.js';

/** Each tile's rendition in a session answered 200. */
function renditionsOf(answer: Awaited<ReturnType<typeof call>>): (string | null)[] {
  expect(answer.status).toBe(200);
  return answer.json.tiles.map((t: { rendition: string | null }) => t.rendition);
}

describe('session API against a real redis-server', () => {
  let redis: Redis;
  let app: ReturnType<typeof createSessionApp>;

  useRedisServer((_server, client) => {
    redis = client;
    app = sessionApp(redis, PROTECTED);
  });
  beforeEach(async () => {
    await redis.flushall();
    await createStreams(redis, ['a', 'b', 'c', 'd', 'e'], (id) => id.toUpperCase());
    await redis.set(
      streamKeys.status('a'),
      JSON.stringify({ state: 'live', renditions: ['1080p', '720p', '360p'] }),
    );
  });

  const anon = (method: string, path: string, body?: unknown, ip = '10.0.0.1') => ({
    ...request(method, path, body, {}),
    sourceIp: ip,
  });

  it('creates a 2x2 session, answers heartbeats with renditions, follows focus and counts viewers', async () => {
    const created = await call(app, anon('POST', '/api/sessions', { layout: '2x2', tiles: ['a', 'b', 'c'] }));
    expect(created.status).toBe(201);
    const { sessionId, token } = created.json;
    expect(created.json.tiles).toHaveLength(4);
    expect(created.json.tiles[3]).toMatchObject({ streamId: null, rendition: null, master: null });
    expect(created.json.tiles[0]).toMatchObject({
      streamId: 'a',
      rendition: '360p',
      master: '/a/master.m3u8',
      playlist: '/a/360p/playlist.m3u8',
      rect: { x: 0, y: 0, w: 0.5, h: 0.5 },
    });
    expect(created.json.focus).toBeNull();
    expect(await viewerCounts(redis, ['a', 'b', 'c', 'd'])).toEqual([1, 1, 1, 0]);
    const ttl = await redis.pttl(sessionKey(sessionId));
    expect(ttl).toBeGreaterThan(SESSION_TTL_MS - 10_000);
    expect(ttl).toBeLessThanOrEqual(SESSION_TTL_MS);

    const big = { widthPx: 1920, heightPx: 1080, droppedFrames: 0, decodedFrames: 150 };
    const beat = { bandwidthKbps: 50_000, tiles: [big, big, big, big] };
    const hb = await call(app, withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, beat));
    // Nobody focused: every tile stays at the tile rung.
    expect(renditionsOf(hb)).toEqual(['360p', '360p', '360p', null]);

    const focused = await call(app, withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { focus: 1 }));
    expect(renditionsOf(focused)).toEqual(['360p', '1080p', '360p', null]);

    // A tile too small for 720p never gets it, focused or not.
    const small = { widthPx: 1000, heightPx: 600, droppedFrames: 0, decodedFrames: 150 };
    const hb2 = await call(
      app,
      withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, {
        bandwidthKbps: 50_000,
        tiles: [big, small, big, big],
      }),
    );
    expect(hb2.json.tiles[1].rendition).toBe('360p');

    // Switch a tile's stream: counts follow.
    const switched = await call(
      app,
      withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { tile: { index: 2, streamId: 'd' } }),
    );
    expect(switched.status).toBe(200);
    expect(switched.json.tiles[2].streamId).toBe('d');
    expect(await viewerCounts(redis, ['a', 'b', 'c', 'd'])).toEqual([1, 1, 0, 1]);

    // Playback tokens (D37): one cookie per stream of the session, on that stream's path, for three stable beats.
    const cookies = switched.response.cookies ?? [];
    const streams = (switched.json.tiles as { streamId: string | null }[]).flatMap((t) => t.streamId ?? []);
    expect(cookies.map((c) => /Path=\/([^/]+)\//.exec(c)?.[1]).sort()).toEqual([...new Set(streams)].sort());
    for (const c of cookies) {
      expect(c).toMatch(
        /^mirror_play=p2\.test0001\.[^;]+; Path=\/[a-z0-9-]+\/; Max-Age=90; Secure; HttpOnly; SameSite=Lax$/,
      );
    }
    const dCookie = (cookies.find((c) => c.includes('Path=/d/')) ?? '').split(';')[0] ?? '';
    expect(dCookie).toContain(`.${sessionId}.`);
    expect(switched.json.playbackTokens.d).toBe(dCookie.slice('mirror_play='.length));
    // The edge function (its generated source) lets that cookie fetch d's media, not c's.
    const edge = loadPlaybackFunction(playbackStore);
    const check = async (uri: string) => {
      const token = dCookie.slice('mirror_play='.length);
      const req: CfRequest = {
        method: 'GET',
        uri,
        querystring: {},
        headers: {},
        cookies: { mirror_play: { value: token } },
      };
      const event = {
        version: '1.0',
        context: { eventType: 'viewer-request', distributionId: 'T', requestId: '1' },
        viewer: { ip: '127.0.0.1' },
        request: req,
      } as const;
      return !isCfResponse(await edge(event));
    };
    expect(await check('/d/360p/playlist.m3u8')).toBe(true);
    expect(await check('/c/360p/playlist.m3u8')).toBe(false);

    const got = await call(app, withToken(token, 'GET', `/api/sessions/${sessionId}`));
    expect(got.json.tiles[2].streamId).toBe('d');

    const ended = await call(app, withToken(token, 'DELETE', `/api/sessions/${sessionId}`));
    expect(ended.status).toBe(204);
    expect(await redis.exists(sessionKey(sessionId))).toBe(0);
    expect(await viewerCounts(redis, ['a', 'b', 'c', 'd'])).toEqual([0, 0, 0, 0]);
    expect((await call(app, withToken(token, 'GET', `/api/sessions/${sessionId}`))).status).toBe(404);
  });

  it('supports every layout and refuses more streams than tiles', async () => {
    const counts: Record<string, number> = {
      '1x1': 1,
      '2x2': 4,
      '3x3': 9,
      '4x4': 16,
      '5x5': 25,
      'focus-strip': 5,
      pip: 2,
    };
    for (const [layout, n] of Object.entries(counts)) {
      const ok = await call(app, anon('POST', '/api/sessions', { layout, tiles: ['a'] }));
      expect(ok.status, layout).toBe(201);
      expect(ok.json.tiles).toHaveLength(n);
      const tooMany = await call(
        app,
        anon('POST', '/api/sessions', { layout, tiles: Array(n + 1).fill('a') }),
      );
      expect(tooMany.status, layout).toBe(400);
      expect(tooMany.json.field).toBe('tiles');
    }
    const pip = await call(app, anon('POST', '/api/sessions', { layout: 'pip', tiles: ['a', 'b'] }));
    expect(pip.json.focus).toBe(0);
  });

  it('names the field at fault', async () => {
    const cases: [unknown, number, string][] = [
      [{ layout: '6x6', tiles: [] }, 400, 'layout'],
      [{ layout: '2x2', tiles: ['a'], extra: 1 }, 400, 'extra'],
      [{ layout: '2x2', tiles: ['Nope!'] }, 400, 'tiles.0'],
      [{ layout: '2x2', tiles: ['a', 'zzz'] }, 404, 'tiles.1'],
      [{ layout: '2x2', tiles: ['a'], focus: 4 }, 400, 'focus'],
      [{ layout: '2x2' }, 400, 'tiles'],
    ];
    for (const [body, status, field] of cases) {
      const r = await call(app, anon('POST', '/api/sessions', body));
      expect([r.status, r.json.field], JSON.stringify(body)).toEqual([status, field]);
    }
    const created = await call(app, anon('POST', '/api/sessions', { layout: '2x2', tiles: ['a'] }));
    const { sessionId, token } = created.json;
    const hb = await call(
      app,
      withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, { bandwidthKbps: 1, tiles: [] }),
    );
    expect([hb.status, hb.json.field]).toEqual([400, 'tiles']);
    const neg = await call(
      app,
      withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, {
        bandwidthKbps: -1,
        tiles: [{ widthPx: 1, heightPx: 1 }],
      }),
    );
    expect([neg.status, neg.json.field]).toEqual([400, 'bandwidthKbps']);
    const tileIdx = await call(
      app,
      withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { tile: { index: 7, streamId: 'a' } }),
    );
    expect([tileIdx.status, tileIdx.json.field]).toEqual([400, 'tile.index']);
    const empty = await call(app, withToken(token, 'PATCH', `/api/sessions/${sessionId}`, {}));
    expect([empty.status, empty.json.field]).toEqual([400, 'body']);
  });

  it('checks the session token', async () => {
    const one = await call(app, anon('POST', '/api/sessions', { layout: '1x1', tiles: ['a'] }));
    const two = await call(app, anon('POST', '/api/sessions', { layout: '1x1', tiles: ['b'] }));
    const path = `/api/sessions/${one.json.sessionId}`;
    expect((await call(app, anon('GET', path))).json.field).toBe('authorization');
    expect((await call(app, withToken(two.json.token, 'GET', path))).status).toBe(403);
    const forged = `${one.json.token.slice(0, -4)}AAAA`;
    expect((await call(app, withToken(forged, 'GET', path))).status).toBe(401);
    const expired = signSessionToken(SECRET, one.json.sessionId, Math.floor(Date.now() / 1000) - 1);
    expect((await call(app, withToken(expired, 'GET', path))).status).toBe(401);
    expect((await call(app, withToken(one.json.token, 'GET', path))).status).toBe(200);
  });

  it('lists streams for viewers, live first, without secrets', async () => {
    const r = await call(app, anon('GET', '/api/sessions/streams'));
    expect(r.status).toBe(200);
    expect(r.json.streams[0]).toEqual({
      id: 'a',
      name: 'A',
      live: true,
      renditions: ['1080p', '720p', '360p'],
      // A live stream's DVR window (D43).
      dvrUrl: '/a/dvr.m3u8',
    });
    expect(r.json.streams).toHaveLength(5);
    expect(JSON.stringify(r.json)).not.toMatch(/publishKey|passphrase/);
  });

  it('rate limits per IP: 100/s with bursts of 200, then 429 with Retry-After', async () => {
    // 300 requests at once from one address: the bucket holds 200, refilling at 100/s while they run.
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        app.handle(anon('GET', '/api/sessions/streams', undefined, '192.0.2.7')),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThanOrEqual(200 + Math.ceil(elapsedS * 100) + 1);
    expect(limited.length).toBe(300 - allowed);
    expect(limited[0]?.headers['retry-after']).toBe('1');
    expect(JSON.parse(limited[0]?.body as string)).toMatchObject({
      error: 'rate_limited',
      field: 'sourceIp',
    });
    // Another address has its own bucket.
    expect((await app.handle(anon('GET', '/api/sessions/streams', undefined, '192.0.2.8'))).status).toBe(200);
    // And the bucket refills: after 50 ms about 5 more requests pass.
    await new Promise((r) => setTimeout(r, 60));
    expect((await app.handle(anon('GET', '/api/sessions/streams', undefined, '192.0.2.7'))).status).toBe(200);
  });
});
