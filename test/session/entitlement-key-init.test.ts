import { sign } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import * as keys from '../../core/auth/keys.js';
import { stageEntitlementVerifier } from '../../functions/session/entitlements.js';

// Decision D48: Mirror's entitlement key is derived on the first entitlement a request carries, not at cold start;
// what the cold start must still refuse (malformed customer keys) is still refused there.

const derived = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../core/auth/keys.js', async (original) => {
  const actual = await original<typeof import('../../core/auth/keys.js')>();
  return {
    ...actual,
    mirrorSigningKey: (secret: string) => {
      derived.count++;
      return actual.mirrorSigningKey(secret);
    },
  };
});

const SECRET = 'viewer-token-secret-0123456789abcdefghijkl';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe("Mirror's entitlement key at cold start (D48)", () => {
  it('is derived once, on the first verification, and then verifies Mirror-signed entitlements', async () => {
    const nowMs = Date.now();
    const verify = stageEntitlementVerifier(undefined, SECRET, () => nowMs);
    expect(verify).toBeDefined();
    expect(derived.count).toBe(0);
    // Signed here with node:crypto from the same secret (the key the control function's viewer-tokens route uses).
    const { privateKey, kid } = keys.mirrorSigningKey(SECRET);
    derived.count = 0;
    const nowS = Math.floor(nowMs / 1000);
    const claims = { iss: 'mirror', sub: 'v', iat: nowS - 1, exp: nowS + 60, streams: ['a'] };
    const signed = `${b64({ alg: 'EdDSA', kid, typ: 'JWT' })}.${b64(claims)}`;
    const token = `${signed}.${sign(null, Buffer.from(signed), privateKey).toString('base64url')}`;
    expect((await verify?.(token))?.streams).toEqual(new Set(['a']));
    await expect(verify?.(`${signed}.${'A'.repeat(86)}`)).rejects.toThrow('signature does not verify');
    expect(derived.count).toBe(1);
  });

  it('still fails the cold start on customer keys none of which imports, secret or not', () => {
    for (const secret of [SECRET, undefined]) {
      expect(() =>
        stageEntitlementVerifier({ keys: '{"keys":[{"kty":"oct","k":"AA"}]}' }, secret, Date.now),
      ).toThrow('no key of the set is a usable public key');
    }
    expect(stageEntitlementVerifier(undefined, undefined, Date.now)).toBeUndefined();
  });
});
