import fc from 'fast-check';
import { describe, it } from 'vitest';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { ENTITLEMENT_HEADER } from '../../core/auth/entitlement.js';
import { signJwt } from '../../core/auth/jwt.js';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import type { createSessionApp } from '../../functions/session/app.js';
import { stageEntitlementVerifier } from '../../functions/session/entitlements.js';
import { bodyArb, fuzzApi, pathArb, requestArb } from '../control/fuzz.js';
import { call } from '../control/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { createStreams, PROTECTED, sessionApp, UNLIMITED, withToken } from './helpers.js';

const FUZZ_KEY = 'fuzz-viewer-token-secret-0123456789abcdef';
const FUZZ_VERIFIER = stageEntitlementVerifier(undefined, FUZZ_KEY, Date.now);
const FUZZ_ENTITLEMENT = (() => {
  const { alg, privateKey, kid } = mirrorSigningKey(FUZZ_KEY);
  const iat = Math.floor(Date.now() / 1000);
  return signJwt(alg, privateKey, kid, { iss: 'mirror', sub: 'fuzz', streams: ['a'], iat, exp: iat + 3600 });
})();

describe('session API under fuzzing', () => {
  let app: ReturnType<typeof createSessionApp>;
  let sessionId = '';
  let token = '';

  useRedisServer(async (_server, redis) => {
    app = sessionApp(redis, { ...PROTECTED, rateLimit: UNLIMITED, verifyEntitlement: FUZZ_VERIFIER });
    await createStreams(redis, ['a', 'b']);
    // An RTP stream's record (decision D46: protocol, rtp) read by the session API like any other.
    await new StreamRegistry(redis).create({
      ...{ id: 'c', name: 'c', ladder: 'full', latency: 'low', encrypted: false, keyLength: 16 },
      ...{ protocol: 'rtp', rtp: { payload: 'h264', plainSources: ['192.0.2.1'] } },
    });
    const created = await call(
      app,
      withToken('', 'POST', '/api/sessions', { layout: '2x2', tiles: ['a', 'b'] }),
    );
    ({ sessionId, token } = created.json);
  });

  it('answers thousands of malformed requests without a 5xx, every 4xx naming the field', async () => {
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
      { layout: '2x2', tiles: ['c', 'a'] },
      { focus: 1 },
      { tile: { index: 3, streamId: 'b' } },
      { tile: { index: 1, streamId: 'c' } },
      { layout: 'focus-strip' },
      { bandwidthKbps: 8000, tiles: [tile, tile, tile, tile] },
      { bandwidthKbps: 100, tiles: [tile] },
    ];
    const requests = requestArb({
      path: pathArb(
        app.routes.map((r) => r.path),
        { sessionId: [sessionId, 'AAAAAAAAAAAAAAAA'] },
        '/api/sessions',
      ),
      body: bodyArb(keys, valid),
      query: fc.dictionary(fc.constantFrom('cursor', 'x'), fc.string({ maxLength: 20 }), { maxKeys: 1 }),
      authorization: fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
        { weight: 1, arbitrary: fc.string() },
        { weight: 1, arbitrary: fc.string().map((s) => `Bearer ${token.slice(0, -3)}${s}`) },
      ),
      sourceIp: fc.oneof(fc.ipV4(), fc.constant(undefined)),
    });
    // Entitlements (decision D36) on every route: none, a valid one, a tampered one, or noise.
    const entitlement = fc.oneof(
      fc.constant(undefined),
      fc.constant(FUZZ_ENTITLEMENT),
      fc.string({ maxLength: 20 }).map((s) => `${FUZZ_ENTITLEMENT.slice(0, -4)}${s}`),
      fc.string({ maxLength: 300 }),
    );
    await fuzzApi(
      app,
      fc
        .tuple(requests, entitlement)
        .map(([r, e]) =>
          e === undefined ? r : { ...r, headers: { ...r.headers, [ENTITLEMENT_HEADER]: e } },
        ),
    );
  });
});
