import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwksLoader } from '../../core/adapters/jwks.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { ENTITLEMENT_HEADER } from '../../core/auth/entitlement.js';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import { stageEntitlementVerifier } from '../../functions/session/entitlements.js';
import { Edge } from '../../local/edge/edge.js';
import { call, controlApp, request as controlRequest } from '../control/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { sessionApp, UNLIMITED, withToken } from './helpers.js';

// Decision D36: private streams are invisible and unplayable without an entitlement naming them.

const MIRROR_SECRET = 'viewer-token-secret-0123456789abcdefghijkl';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A JWT built here with node:crypto directly, not with the code under test (an independent signer). */
function jwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const signed = `${b64(header)}.${b64(claims)}`;
  const alg = header.alg;
  const signature =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' })
      : sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(signed), key);
  return `${signed}.${signature.toString('base64url')}`;
}

/** A customer's JWKS endpoint (a real HTTP server) whose key set a test can rotate; counts its fetches. */
class KeyServer {
  keys: object[] = [];
  fetches = 0;
  private server: Server | undefined;
  async start(): Promise<string> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: this.keys }));
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  }
  stop(): void {
    this.server?.close();
  }
}

function customerKey(kid: string, type: 'rsa' | 'ec') {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const alg = type === 'rsa' ? 'RS256' : 'ES256';
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg },
  };
}

describe('private streams and viewer entitlements (D36)', () => {
  const keyServer = new KeyServer();
  const rsa = customerKey('cust-2026-a', 'rsa');
  const ec = customerKey('cust-2026-b', 'ec');
  // Real time: the session store's Redis expiry is absolute, so a fixed date would expire sessions once it passed.
  let clockMs = Date.now();
  const nowS = () => Math.floor(clockMs / 1000);
  let redis: Redis;
  let app: ReturnType<typeof sessionApp>;
  let mint: (body: unknown) => Promise<string>;

  useRedisServer(async (_server, client) => {
    redis = client;
    const registry = new StreamRegistry(redis);
    const create = (id: string, visibility?: 'public' | 'private') =>
      registry.create({
        id,
        name: id,
        ladder: 'full',
        latency: 'low',
        encrypted: false,
        keyLength: 16,
        visibility,
      });
    await create('lobby', 'public');
    await create('board-room', 'private');
    await create('vault', 'private');
    // Written before visibility existed: reads as public, as it was.
    await create('legacy');
  });

  beforeAll(async () => {
    keyServer.keys = [rsa.jwk];
    const url = await keyServer.start();
    const verify = stageEntitlementVerifier(
      { jwksUrl: url, issuer: 'https://customer.example', audience: 'mirror-prod' },
      MIRROR_SECRET,
      () => clockMs,
      jwksLoader,
    );
    app = sessionApp(redis, { verifyEntitlement: verify, rateLimit: UNLIMITED, now: () => clockMs });
    const control = controlApp(redis, {
      viewerTokenKey: mirrorSigningKey(MIRROR_SECRET),
      now: () => new Date(clockMs),
    });
    mint = async (body) =>
      (await call(control, controlRequest('POST', '/api/control/viewer-tokens', body))).json.token;
  });
  afterAll(() => keyServer.stop());

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: 'https://customer.example',
    aud: 'mirror-prod',
    sub: 'viewer-42',
    iat: nowS(),
    exp: nowS() + 600,
    streams: ['board-room'],
    ...extra,
  });
  const customer = (extra: Record<string, unknown> = {}, key = rsa) =>
    jwt({ alg: key.alg, kid: key.kid, typ: 'JWT' }, claims(extra), key.privateKey);
  const entitled = (token: string) => ({ [ENTITLEMENT_HEADER]: token });
  const open = (tiles: string[], headers: Record<string, string> = {}) => {
    const req = withToken('', 'POST', '/api/sessions', { layout: '2x2', tiles });
    return call(app, { ...req, headers: { ...req.headers, ...headers } });
  };
  const list = (path: string, headers: Record<string, string> = {}) =>
    call(app, { ...withToken('', 'GET', path), headers });

  it('lists only public streams without an entitlement, cacheable; the entitled list needs one', async () => {
    const pub = await list('/api/sessions/streams', entitled(await mint({ streams: '*', ttlSeconds: 60 })));
    // The cached path never reads the header: the answer is the same for everyone.
    expect(pub.json.streams.map((s: { id: string }) => s.id).sort()).toEqual(['legacy', 'lobby']);
    expect(pub.response.headers['cache-control']).toMatch(/^public, max-age=2$/);
    const none = await list('/api/sessions/streams/entitled');
    expect(none.status).toBe(401);
    expect(none.json.field).toBe(ENTITLEMENT_HEADER);
  });

  it('refuses a private stream without an entitlement (403 naming the tile) and opens it with one', async () => {
    const refused = await open(['lobby', 'board-room']);
    expect(refused.status).toBe(403);
    expect(refused.json.field).toBe('tiles.1');
    const token = await mint({ streams: ['board-room'], ttlSeconds: 300, subject: 'tester' });
    const opened = await open(['lobby', 'board-room'], entitled(token));
    expect(opened.status).toBe(201);
    const mine = await list('/api/sessions/streams/entitled', entitled(token));
    expect(mine.json.streams.map((s: { id: string }) => s.id).sort()).toEqual([
      'board-room',
      'legacy',
      'lobby',
    ]);
    expect(mine.response.headers['cache-control']).toBe('private, no-store');
  });

  it('refuses a private stream with an entitlement for another stream; a wildcard opens every stream', async () => {
    const other = await open(['vault'], entitled(customer()));
    expect(other.status).toBe(403);
    expect(other.json.field).toBe('tiles.0');
    expect((await open(['vault', 'board-room'], entitled(customer({ streams: '*' })))).status).toBe(201);
  });

  it('checks streams a PATCH adds, not those already in the session', async () => {
    const token = customer();
    const created = await open(['board-room'], entitled(token));
    const patch = (body: unknown, headers: Record<string, string> = {}) => {
      const req = withToken(created.json.token, 'PATCH', `/api/sessions/${created.json.sessionId}`, body);
      return call(app, { ...req, headers: { ...req.headers, ...headers } });
    };
    // board-room was admitted at creation: a focus change needs no entitlement.
    expect((await patch({ focus: 0 })).status).toBe(200);
    const added = await patch({ tile: { index: 1, streamId: 'vault' } }, entitled(token));
    expect(added.status).toBe(403);
    expect(added.json.field).toBe('tile.streamId.1');
    expect(
      (await patch({ tile: { index: 1, streamId: 'vault' } }, entitled(customer({ streams: ['vault'] }))))
        .status,
    ).toBe(200);
  });

  it('answers 401 for expired, forged, unsigned or badly claimed entitlements', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const bad = {
      expired: customer({ iat: nowS() - 900, exp: nowS() - 300 }),
      forged: jwt({ alg: 'RS256', kid: rsa.kid }, claims(), stranger),
      tampered: (() => {
        const [h, , s] = customer().split('.');
        return `${h}.${b64(claims({ streams: '*' }))}.${s}`;
      })(),
      none: `${b64({ alg: 'none' })}.${b64(claims())}.`,
      hs256: `${b64({ alg: 'HS256', kid: rsa.kid })}.${b64(claims())}.c2ln`,
      tooLong: customer({ exp: nowS() + 25 * 3600 }),
      noExp: customer({ exp: undefined }),
      wrongIssuer: customer({ iss: 'https://evil.example' }),
      wrongAudience: customer({ aud: 'mirror-dev' }),
      notYet: customer({ nbf: nowS() + 3600 }),
      // Mirror's key only verifies Mirror's issuer: a token it signed with a customer's iss is refused.
      mirrorAsCustomer: jwt(
        { alg: 'EdDSA', kid: mirrorSigningKey(MIRROR_SECRET).kid },
        claims(),
        mirrorSigningKey(MIRROR_SECRET).privateKey,
      ),
      garbage: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(bad)) {
      const answer = await open(['board-room'], entitled(token));
      expect(answer.status, name).toBe(401);
      expect(answer.json.field, name).toBe(ENTITLEMENT_HEADER);
      expect((await list('/api/sessions/streams/entitled', entitled(token))).status, name).toBe(401);
    }
  });

  it('follows a JWKS key rotation: an unknown kid refetches, at most once per interval', async () => {
    const before = keyServer.fetches;
    keyServer.keys = [rsa.jwk, ec.jwk];
    // Past the refetch interval since the set was last fetched (the tests above).
    clockMs += 31_000;
    expect((await open(['board-room'], entitled(customer({}, ec)))).status).toBe(201);
    expect(keyServer.fetches).toBe(before + 1);
    // A flood of made-up key ids costs no fetch within the interval (30 s) ...
    for (let i = 0; i < 20; i++) {
      const made = jwt({ alg: 'RS256', kid: `made-up-${i}` }, claims(), rsa.privateKey);
      expect((await open(['board-room'], entitled(made))).status).toBe(401);
    }
    expect(keyServer.fetches).toBe(before + 1);
    // ... and one after it; the retired key then stops verifying.
    keyServer.keys = [ec.jwk];
    clockMs += 31_000;
    expect(
      (await open(['board-room'], entitled(jwt({ alg: 'RS256', kid: 'x' }, claims(), rsa.privateKey))))
        .status,
    ).toBe(401);
    expect(keyServer.fetches).toBe(before + 2);
    expect((await open(['board-room'], entitled(customer()))).status).toBe(401);
    expect((await open(['board-room'], entitled(customer({}, ec)))).status).toBe(201);
  });

  it('through the edge: the public list is cached for everyone alike, the entitled list never', async () => {
    const unused = { handle: async () => ({ status: 404, headers: {}, body: '' }) };
    const edge = new Edge({ manifest: unused, media: unused, session: app }, { now: () => clockMs });
    const token = await mint({ streams: ['vault'], ttlSeconds: 60 });
    const get = (path: string, headers: Record<string, string> = {}) =>
      edge.handle({ method: 'GET', path, query: {}, headers, body: undefined });
    const ids = (r: { body: unknown }) =>
      JSON.parse(String(r.body))
        .streams.map((s: { id: string }) => s.id)
        .sort();
    const first = await get('/api/sessions/streams');
    // A viewer with an entitlement asking the public path gets the same cached list: the header splits nothing.
    const again = await get('/api/sessions/streams', entitled(token));
    expect(again.cache).toBe('hit');
    expect(ids(again)).toEqual(ids(first));
    expect(ids(again)).not.toContain('vault');
    const before = edge.stats.origin;
    const mine = [
      await get('/api/sessions/streams/entitled', entitled(token)),
      await get('/api/sessions/streams/entitled', entitled(token)),
    ];
    expect(mine.map((r) => r.cache)).toEqual(['uncached', 'uncached']);
    expect(ids(mine[1] as { body: unknown })).toEqual(['legacy', 'lobby', 'vault']);
    expect(edge.stats.origin.session + edge.stats.origin.api).toBe(before.session + before.api + 2);
    // Nobody else gets it from the cache: without the header the same path is refused.
    expect((await get('/api/sessions/streams/entitled')).status).toBe(401);
  });
});
