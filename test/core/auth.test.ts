import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mayWatch, readClaims } from '../../core/auth/entitlement.js';
import { type JwtAlg, parseJwt, signJwt, verifyJwt } from '../../core/auth/jwt.js';
import { mirrorSigningKey, parseKeys } from '../../core/auth/keys.js';

// Decision D36: the pure parts of entitlement checking (RFC 7515/7519 as Mirror profiles them).

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ed = generateKeyPairSync('ed25519');
const claims = { sub: 'v', exp: 2_000_000_000, streams: ['a'] };

describe('JWS verification (core/auth/jwt.ts)', () => {
  it('verifies each allowed algorithm with its own key type only (no algorithm confusion)', () => {
    const pairs: [JwtAlg, typeof rsa][] = [
      ['RS256', rsa],
      ['ES256', ec],
      ['EdDSA', ed],
    ];
    for (const [alg, pair] of pairs) {
      const jwt = parseJwt(signJwt(alg, pair.privateKey, 'k', claims));
      if (typeof jwt === 'string') throw new Error(jwt);
      for (const [, other] of pairs) expect(verifyJwt(jwt, other.publicKey), alg).toBe(other === pair);
    }
  });

  it('refuses weak keys: RSA under 2048 bits, ES256 on another curve', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const rs = parseJwt(signJwt('RS256', small.privateKey, 'k', claims));
    const es = parseJwt(`${signJwt('EdDSA', ed.privateKey, 'k', claims).split('.')[0]}.e30.AA`);
    expect(typeof rs !== 'string' && verifyJwt(rs, small.publicKey)).toBe(false);
    expect(typeof es !== 'string' && verifyJwt({ ...es, header: { alg: 'ES256' } }, p384.publicKey)).toBe(
      false,
    );
  });

  it('refuses what is not a JWS Mirror accepts, before any key is looked up', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(parseJwt(`${b64({ alg: 'none' })}.${b64(claims)}.`)).toBe('not a compact JWS');
    expect(parseJwt(`${b64({ alg: 'none' })}.${b64(claims)}.AA`)).toMatch(/^alg must be/);
    expect(parseJwt(`${b64({ alg: 'HS256' })}.${b64(claims)}.AA`)).toMatch(/^alg must be/);
    expect(parseJwt(`${b64({ alg: 'RS256', crit: ['exp'] })}.${b64(claims)}.AA`)).toBe(
      'crit is not supported',
    );
    expect(parseJwt(`${b64({ alg: 'RS256' })}.${b64([1])}.AA`)).toMatch(/not a JSON object/);
    expect(parseJwt(`${b64({ alg: 'RS256' })}.${'A'.repeat(9000)}.AA`)).toBe('not a compact JWS');
  });
});

describe('entitlement claims (core/auth/entitlement.ts)', () => {
  const now = 1_800_000_000;
  it('grants ids or everything, and only within bounded, current lifetimes', () => {
    const ok = readClaims({ sub: 's', iat: now, exp: now + 60, streams: ['a', 'b'] }, {}, now);
    expect(typeof ok !== 'string' && [...(ok.streams as Set<string>)]).toEqual(['a', 'b']);
    expect(readClaims({ sub: 's', exp: now + 60, streams: '*' }, {}, now)).toMatchObject({ streams: '*' });
    expect(readClaims({ sub: 's', exp: now - 61, streams: '*' }, {}, now)).toBe('expired');
    // Within the 60 s skew: still valid.
    expect(typeof readClaims({ sub: 's', exp: now - 30, streams: '*' }, {}, now)).toBe('object');
    expect(readClaims({ sub: 's', iat: now - 90_000, exp: now + 60, streams: '*' }, {}, now)).toMatch(
      /lifetime/,
    );
    expect(readClaims({ sub: 's', exp: now + 86_401, streams: '*' }, {}, now)).toMatch(/lifetime/);
    expect(readClaims({ sub: 's', exp: now + 60, streams: ['UPPER'] }, {}, now)).toMatch(/^streams/);
    expect(readClaims({ sub: 's', exp: now + 60, streams: 'a' }, {}, now)).toMatch(/^streams/);
    expect(readClaims({ exp: now + 60, streams: '*' }, {}, now)).toMatch(/^sub/);
    expect(
      readClaims({ sub: 's', exp: now + 60, streams: '*', aud: ['x', 'y'] }, { audience: 'y' }, now),
    ).toMatchObject({
      subject: 's',
    });
  });

  it('lets anyone watch public streams (and records without visibility), only the entitled private ones', () => {
    const entitlement = { subject: 's', streams: new Set(['a']), expiresAtS: 0 };
    expect(mayWatch({ id: 'old' }, undefined)).toBe(true);
    expect(mayWatch({ id: 'p', visibility: 'public' }, undefined)).toBe(true);
    expect(mayWatch({ id: 'a', visibility: 'private' }, undefined)).toBe(false);
    expect(mayWatch({ id: 'a', visibility: 'private' }, entitlement)).toBe(true);
    expect(mayWatch({ id: 'b', visibility: 'private' }, entitlement)).toBe(false);
    expect(mayWatch({ id: 'b', visibility: 'private' }, { ...entitlement, streams: '*' })).toBe(true);
  });
});

describe('keys (core/auth/keys.ts)', () => {
  it('reads PEM blocks and JWKS sets, skipping keys it cannot use; a set of none throws', () => {
    const pem = [rsa, ec].map((p) => p.publicKey.export({ format: 'pem', type: 'spki' })).join('\n');
    expect(parseKeys(pem, {}).map((k) => k.key.asymmetricKeyType)).toEqual(['rsa', 'ec']);
    const jwks = {
      keys: [
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e', alg: 'ES256' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'h' },
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'enc', use: 'enc' },
      ],
    };
    expect(parseKeys(JSON.stringify(jwks), {}).map((k) => [k.kid, k.alg])).toEqual([['e', 'ES256']]);
    expect(() => parseKeys({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, {})).toThrow(/no key/);
  });

  it('derives the same Ed25519 key and key id from the same secret, another from another', () => {
    const a = mirrorSigningKey('secret-one-0123456789abcdefghijklmn');
    expect(mirrorSigningKey('secret-one-0123456789abcdefghijklmn').kid).toBe(a.kid);
    expect(mirrorSigningKey('secret-two-0123456789abcdefghijklmn').kid).not.toBe(a.kid);
    expect(a.publicKey.asymmetricKeyType).toBe('ed25519');
  });
});
