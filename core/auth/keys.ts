import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { UnavailableError } from '../api/errors.js';
import { ApiError } from '../api/router.js';
import { type ClaimRules, ENTITLEMENT_HEADER, type Entitlement, readClaims } from './entitlement.js';
import { type JwtAlg, type JwtParts, parseJwt, verifyJwt } from './jwt.js';

/** One key an entitlement may be verified with, and what it requires of the claims. */
export interface VerificationKey {
  readonly key: KeyObject;
  readonly kid?: string;
  /** A JWK's `alg`, when it names one: the key then verifies that algorithm only. */
  readonly alg?: string;
  readonly rules: ClaimRules;
}

/**
 * The first of `candidates` that verifies `jwt`'s signature; a key whose JWK names an `alg` only for tokens of that
 * algorithm (no algorithm confusion).
 */
export function verifyingKey(
  jwt: JwtParts,
  candidates: readonly VerificationKey[],
): VerificationKey | undefined {
  return candidates.find((k) => (k.alg === undefined || k.alg === jwt.header.alg) && verifyJwt(jwt, k.key));
}

/** Keys per source (inline set, JWKS document): bounds the work one token can cause and the cache. */
export const MAX_KEYS = 20;
/** The `iss` of entitlements Mirror's viewer-tokens route mints; only Mirror's own key verifies them. */
export const MIRROR_ISSUER = 'mirror';

/**
 * Public keys from a JWKS (`{"keys":[...]}`), one JWK, or PEM text (one or more `PUBLIC KEY` blocks). Private
 * members of a JWK are never needed: createPublicKey keeps the public half. A key node:crypto cannot import (a
 * symmetric or unknown type in a customer's JWKS) is skipped; a set of which none imports throws.
 */
export function parseKeys(source: unknown, rules: ClaimRules): VerificationKey[] {
  if (typeof source === 'string' && source.includes('-----BEGIN')) {
    const pems = source.match(/-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----/g) ?? [];
    return pems.slice(0, MAX_KEYS).map((pem) => ({ key: createPublicKey(pem), rules }));
  }
  const value = typeof source === 'string' ? (JSON.parse(source) as unknown) : source;
  const set = (value as { keys?: unknown }).keys ?? [value];
  if (!Array.isArray(set)) throw new Error('keys must be an array of JWKs');
  const keys = set
    .filter((jwk: JsonWebKey) => jwk.use === undefined || jwk.use === 'sig')
    .slice(0, MAX_KEYS)
    .flatMap((jwk: JsonWebKey) => {
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
        return [{ key, kid, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, rules }];
      } catch {
        return [];
      }
    });
  if (keys.length === 0 && set.length > 0) throw new Error('no key of the set is a usable public key');
  return keys;
}

// PKCS#8 DER of an Ed25519 private key is this fixed prefix followed by the 32-byte seed (RFC 8410).
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Mirror's own entitlement key, Ed25519, derived from a secret string (decision D36): Secrets Manager generates
 * random strings, not key pairs, so the seed is SHA-256 of the secret. The key id follows from the public key,
 * so a new secret is a new `kid`.
 */
export function mirrorSigningKey(secret: string) {
  const seed = createHash('sha256').update(secret).digest();
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const kid = `mirror-${createHash('sha256').update(spki).digest('base64url').slice(0, 16)}`;
  return { privateKey, publicKey, kid, alg: 'EdDSA' as JwtAlg };
}

/**
 * A JWKS document fetched on demand (`load`, an adapter): kept `ttlMs`, refetched earlier when a token names an
 * unknown `kid` (a key rotation) but at most once per `minRefetchMs`, so a flood of tokens with made-up key ids
 * costs one fetch per interval. A failed fetch keeps the last good set (a JWKS outage does not end playback).
 */
export class JwksKeys {
  private keys: VerificationKey[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private failed = false;
  private flight: Promise<void> | undefined;

  constructor(
    private readonly load: () => Promise<unknown>,
    private readonly rules: ClaimRules,
    private readonly now: () => number,
    private readonly ttlMs = 10 * 60_000,
    private readonly minRefetchMs = 30_000,
  ) {}

  async find(kid: string | undefined): Promise<VerificationKey[]> {
    const match = () => this.keys.filter((k) => kid === undefined || k.kid === kid);
    const age = this.now() - this.fetchedAt;
    if (age >= this.ttlMs || (match().length === 0 && age >= this.minRefetchMs)) await this.refresh();
    const found = match();
    if (found.length === 0 && this.failed)
      throw new UnavailableError('the entitlement key set is unreachable');
    return found;
  }

  private refresh(): Promise<void> {
    this.flight ??= this.load()
      .then((document) => {
        this.keys = parseKeys(document, this.rules);
        this.failed = false;
      })
      .catch(() => {
        this.failed = true;
      })
      .finally(() => {
        this.fetchedAt = this.now();
        this.flight = undefined;
      });
    return this.flight;
  }
}

/** Verifies an entitlement against the stage's keys: inline and Mirror's own, and the JWKS when configured. */
export function entitlementVerifier(
  fixed: readonly VerificationKey[],
  jwks: JwksKeys | undefined,
  now: () => number,
) {
  const refuse = (why: string) =>
    new ApiError(401, 'unauthorized', `${ENTITLEMENT_HEADER}: ${why}`, ENTITLEMENT_HEADER);
  return async (token: string): Promise<Entitlement> => {
    const jwt = parseJwt(token);
    if (typeof jwt === 'string') throw refuse(jwt);
    const { kid } = jwt.header;
    // A key without an id (PEM) is tried for any token; one with an id only for tokens naming it.
    const named = (k: VerificationKey) => kid === undefined || k.kid === undefined || k.kid === kid;
    const candidates = [...fixed.filter(named), ...((await jwks?.find(kid)) ?? [])];
    const key = verifyingKey(jwt, candidates);
    if (!key)
      throw refuse(
        candidates.length === 0 ? `no key with kid ${kid?.slice(0, 64)}` : 'signature does not verify',
      );
    const entitlement = readClaims(jwt.payload, key.rules, Math.floor(now() / 1000));
    if (typeof entitlement === 'string') throw refuse(entitlement);
    return entitlement;
  };
}
export type EntitlementVerifier = ReturnType<typeof entitlementVerifier>;
