import { type KeyObject, sign, verify } from 'node:crypto';

/**
 * Compact JWS (JWT) signing and verification with node:crypto alone (decision D36): three asymmetric algorithms
 * cover what customers' identity stacks issue (RS256), what HSMs and cloud KMSs sign (ES256) and Mirror's own key
 * (EdDSA, Ed25519). No `none`, no HMAC: an allow-list, and each algorithm only with its own key type, so a token
 * cannot choose how it is checked (the classic algorithm-confusion attacks).
 */
export const JWT_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type JwtAlg = (typeof JWT_ALGS)[number];

/** Longer tokens are refused before any parsing: an entitlement names at most a few hundred stream ids. */
export const MAX_JWT_CHARS = 8192;

/** The key type (node:crypto's asymmetricKeyType) each algorithm must be verified with. */
const KEY_TYPE: Record<JwtAlg, string> = { RS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519' };

export interface JwtParts {
  readonly header: { readonly alg: JwtAlg; readonly kid?: string };
  readonly payload: Record<string, unknown>;
  readonly signed: string;
  readonly signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function json(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The token's parts, or why it is not a JWT Mirror accepts (before any signature check). */
export function parseJwt(token: string): JwtParts | string {
  const parts = token.length <= MAX_JWT_CHARS ? token.split('.') : [];
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return 'not a compact JWS';
  const [h, p, s] = parts as [string, string, string];
  const header = json(h);
  const payload = json(p);
  if (!header || !payload) return 'header or payload is not a JSON object';
  if (!JWT_ALGS.includes(header.alg as JwtAlg)) return `alg must be one of ${JWT_ALGS.join(', ')}`;
  // RFC 7515 4.1.11: a recipient must refuse extensions it does not understand; Mirror understands none.
  if (header.crit !== undefined) return 'crit is not supported';
  if (header.kid !== undefined && typeof header.kid !== 'string') return 'kid must be a string';
  return {
    header: header as JwtParts['header'],
    payload,
    signed: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** True when `key` fits the algorithm (type, curve, RSA size). */
export function keyFits(alg: JwtAlg, key: KeyObject): boolean {
  if (key.asymmetricKeyType !== KEY_TYPE[alg]) return false;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'ES256') return details.namedCurve === 'prime256v1';
  return alg !== 'RS256' || (details.modulusLength ?? 0) >= 2048;
}

/** ES256 signatures in a JWS are r||s (IEEE P1363), not DER. */
const keyFor = (alg: JwtAlg, key: KeyObject) =>
  alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
const digest = (alg: JwtAlg) => (alg === 'EdDSA' ? null : 'sha256');

/** The signature check itself (OpenSSL: no secret is compared in JavaScript). */
export function verifyJwt(jwt: JwtParts, key: KeyObject): boolean {
  const { alg } = jwt.header;
  if (!keyFits(alg, key)) return false;
  try {
    return verify(digest(alg), Buffer.from(jwt.signed), keyFor(alg, key), jwt.signature);
  } catch {
    return false;
  }
}

export function signJwt(
  alg: JwtAlg,
  key: KeyObject,
  kid: string,
  payload: Readonly<Record<string, unknown>>,
): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signed = `${part({ alg, typ: 'JWT', kid })}.${part(payload)}`;
  return `${signed}.${sign(digest(alg), Buffer.from(signed), keyFor(alg, key)).toString('base64url')}`;
}
