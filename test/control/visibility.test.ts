import { describe, expect, it } from 'vitest';
import { parseJwt, verifyJwt } from '../../core/auth/jwt.js';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import type { createControlApp } from '../../functions/control/app.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

// Decision D36: each stream's visibility (the stage's default when not given) and Mirror-signed viewer tokens.

const KEY = mirrorSigningKey('viewer-token-secret-0123456789abcdefghijkl');
const NOW = new Date('2026-12-01T08:00:00Z');

describe('stream visibility and viewer tokens on the control API (D36)', () => {
  let privateByDefault: ReturnType<typeof createControlApp>;
  let publicByDefault: ReturnType<typeof createControlApp>;

  useRedisServer((_server, redis) => {
    privateByDefault = controlApp(redis, {
      defaultVisibility: 'private',
      viewerTokenKey: KEY,
      now: () => NOW,
    });
    publicByDefault = controlApp(redis);
  });

  it('gives a new stream the stage default, an explicit visibility wins, and PATCH changes it', async () => {
    const prod = await call(
      privateByDefault,
      request('POST', '/api/control/streams', { id: 'p1', name: 'p1', encrypted: false }),
    );
    expect(prod.status).toBe(201);
    expect(prod.json.stream.visibility).toBe('private');
    const open = { id: 'p2', name: 'p2', visibility: 'public', encrypted: false };
    expect(
      (await call(privateByDefault, request('POST', '/api/control/streams', open))).json.stream.visibility,
    ).toBe('public');
    const dev = await call(
      publicByDefault,
      request('POST', '/api/control/streams', { id: 'd1', name: 'd1', encrypted: false }),
    );
    expect(dev.json.stream.visibility).toBe('public');
    const patched = await call(
      publicByDefault,
      request('PATCH', '/api/control/streams/d1', { visibility: 'private' }),
    );
    expect(patched.json.stream.visibility).toBe('private');
    const listed = await call(publicByDefault, request('GET', '/api/control/streams'));
    expect(
      Object.fromEntries(
        listed.json.streams.map((s: { id: string; visibility: string }) => [s.id, s.visibility]),
      ),
    ).toEqual({
      p1: 'private',
      p2: 'public',
      d1: 'private',
    });
    const bad = await call(
      publicByDefault,
      request('PATCH', '/api/control/streams/d1', { visibility: 'secret' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('visibility');
  });

  it('mints an EdDSA entitlement with Mirror’s key: the claims asked for, verifiable with its public half', async () => {
    const body = { streams: ['p1'], ttlSeconds: 600, subject: 'kiosk-7' };
    const minted = await call(privateByDefault, request('POST', '/api/control/viewer-tokens', body));
    expect(minted.status).toBe(201);
    expect(minted.response.headers['cache-control']).toBe('no-store');
    expect(minted.json.expiresAt).toBe('2026-12-01T08:10:00.000Z');
    const jwt = parseJwt(minted.json.token);
    if (typeof jwt === 'string') throw new Error(jwt);
    expect(jwt.header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: KEY.kid });
    expect(jwt.payload).toEqual({
      iss: 'mirror',
      sub: 'kiosk-7',
      streams: ['p1'],
      iat: 1796112000,
      exp: 1796112600,
    });
    expect(verifyJwt(jwt, KEY.publicKey)).toBe(true);
    // Without a subject, the calling operator is the subject.
    const anonymous = await call(
      privateByDefault,
      request('POST', '/api/control/viewer-tokens', { streams: '*', ttlSeconds: 60 }),
    );
    expect(anonymous.json.subject).toBe('local-operator');
  });

  it('refuses bad requests naming the field, callers without operator credentials, and stages without a key', async () => {
    const cases: [unknown, string][] = [
      [{ streams: [], ttlSeconds: 60 }, 'streams'],
      [{ streams: ['Not A Stream'], ttlSeconds: 60 }, 'streams.0'],
      [{ streams: '*', ttlSeconds: 86_401 }, 'ttlSeconds'],
      [{ streams: '*', ttlSeconds: 0 }, 'ttlSeconds'],
      [{ streams: '*' }, 'ttlSeconds'],
      [{ streams: '*', ttlSeconds: 60, subject: '' }, 'subject'],
      [{ streams: '*', ttlSeconds: 60, alg: 'none' }, 'alg'],
    ];
    for (const [body, field] of cases) {
      const answer = await call(privateByDefault, request('POST', '/api/control/viewer-tokens', body));
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.field, JSON.stringify(body)).toBe(field);
    }
    const anonymous = await call(
      privateByDefault,
      request('POST', '/api/control/viewer-tokens', { streams: '*', ttlSeconds: 60 }, {}),
    );
    expect(anonymous.status).toBe(401);
    const keyless = await call(
      publicByDefault,
      request('POST', '/api/control/viewer-tokens', { streams: '*', ttlSeconds: 60 }),
    );
    expect(keyless.status).toBe(409);
    expect(keyless.json.field).toBe('viewer-tokens');
  });
});
