import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS, sessionKey } from '../../core/adapters/sessions/store.js';
import { HEARTBEAT } from '../../core/sessions/heartbeat-policy.js';
import { call, request } from '../control/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { createStreams, sessionApp, UNLIMITED, withToken } from './helpers.js';

/**
 * The interval each answer asks for (D27): fast while the allocation is changing, rare once it has settled; and the
 * session outlives the rare interval by far, so the rarer beat never lets a watched session expire.
 */
describe('adaptive heartbeat interval, against a real redis-server', () => {
  let redis: Redis;
  // The store computes Redis TTLs from the real clock: this one starts at it and is moved by hand.
  let now = Date.now();
  const clock = () => now;

  useRedisServer((_server, client) => {
    redis = client;
  });
  beforeEach(async () => {
    await redis.flushall();
    await createStreams(redis, ['a', 'b']);
  });

  it('asks for fast beats after a change, rare ones once settled, fast again after the next change', async () => {
    const app = sessionApp(redis, { now: clock, rateLimit: UNLIMITED });
    const created = await call(app, {
      ...request('POST', '/api/sessions', { layout: '2x2', tiles: ['a', 'b'] }, {}),
      sourceIp: '10.0.0.1',
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.heartbeatIntervalMs).toBe(HEARTBEAT.fastMs);
    const { sessionId, token } = created.json;
    const tile = { widthPx: 1920, heightPx: 1080, droppedFrames: 0, decodedFrames: 100 };
    const beat = { bandwidthKbps: 50_000, tiles: [tile, tile, tile, tile] };
    const heartbeat = async () => {
      const answer = await call(app, withToken(token, 'POST', `/api/sessions/${sessionId}/heartbeat`, beat));
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer;
    };

    now += 1_000;
    expect((await heartbeat()).json.heartbeatIntervalMs).toBe(HEARTBEAT.fastMs);
    now += HEARTBEAT.settleMs;
    // Same bandwidth, same tiles: the allocation stands, the viewer may go quiet.
    const settled = await heartbeat();
    expect(settled.json.heartbeatIntervalMs).toBe(HEARTBEAT.stableMs);

    // The session stays alive across the rare interval: its TTL is renewed well past it.
    const ttl = await redis.pttl(sessionKey(sessionId));
    expect(ttl).toBeGreaterThan(2 * HEARTBEAT.stableMs);
    expect(SESSION_TTL_MS).toBeGreaterThan(3 * HEARTBEAT.stableMs);

    now += 60_000;
    const focused = await call(app, withToken(token, 'PATCH', `/api/sessions/${sessionId}`, { focus: 0 }));
    expect(focused.json.tiles[0].rendition).not.toBe(settled.json.tiles[0].rendition);
    expect(focused.json.heartbeatIntervalMs).toBe(HEARTBEAT.fastMs);
  });
});
