import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { createSessionApp } from '../../functions/session/app.js';
import { bodyArb, expectWellBehaved, methodArb, pathArb } from '../control/fuzz.js';
import { capturingLogger } from '../control/helpers.js';
import { type RedisServer, startRedis } from '../support/redis.js';

describe('session API under fuzzing', () => {
  let server: RedisServer;
  let redis: Redis;
  let app: ReturnType<typeof createSessionApp>;
  let sessionId = '';
  let token = '';

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    // Limits high enough not to hide validation behind 429s (the limiter has its own test).
    app = createSessionApp({
      redis,
      logger: capturingLogger([]),
      secret: 'fuzz-secret-0123456789abcdef0123456789',
      playbackProtection: true,
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    });
    const registry = new StreamRegistry(redis);
    for (const id of ['a', 'b']) {
      await registry.create({ id, name: id, ladder: 'full', latency: 'low', encrypted: true, keyLength: 16 });
    }
    const created = await app.handle({
      method: 'POST',
      path: '/api/sessions',
      query: {},
      headers: {},
      body: JSON.stringify({ layout: '2x2', tiles: ['a', 'b'] }),
      sourceIp: '10.0.0.1',
    });
    ({ sessionId, token } = JSON.parse(created.body as string));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers thousands of malformed requests without a 5xx, every 4xx naming the field', async () => {
    const templates = app.routes.map((r) => r.path);
    const keys = [
      'layout',
      'tiles',
      'focus',
      'tile',
      'index',
      'streamId',
      'bandwidthKbps',
      'widthPx',
      'heightPx',
    ];
    const tile = { widthPx: 800, heightPx: 450, droppedFrames: 1, decodedFrames: 100 };
    const valid = [
      { layout: '2x2', tiles: ['a', 'b'] },
      { layout: '5x5', tiles: ['a', null, 'b'], focus: 2 },
      { layout: 'pip', tiles: ['a', 'b'] },
      { focus: 1 },
      { tile: { index: 3, streamId: 'b' } },
      { layout: 'focus-strip' },
      { bandwidthKbps: 8000, tiles: [tile, tile, tile, tile] },
      { bandwidthKbps: 100, tiles: [tile] },
    ];
    const requestArb = fc.record({
      method: methodArb,
      path: pathArb(templates, { sessionId: [sessionId, 'AAAAAAAAAAAAAAAA'] }, '/api/sessions'),
      body: bodyArb(keys, valid),
      query: fc.dictionary(fc.constantFrom('cursor', 'x'), fc.string({ maxLength: 20 }), { maxKeys: 1 }),
      authorization: fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
        { weight: 1, arbitrary: fc.string() },
        { weight: 1, arbitrary: fc.string().map((s) => `Bearer ${token.slice(0, -3)}${s}`) },
      ),
      ip: fc.oneof(fc.ipV4(), fc.constant(undefined)),
    });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const status = await expectWellBehaved(app, {
          method: r.method,
          path: r.path,
          query: r.query,
          headers: { authorization: r.authorization, 'content-type': 'application/json' },
          body: r.body,
          sourceIp: r.ip,
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: 3000 },
    );
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(100);
  });
});
