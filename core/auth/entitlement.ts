import { STREAM_ID_REGEX } from '../contracts/names.js';

/**
 * Viewer entitlements (decision D36): a JWT the customer's backend (or Mirror's viewer-tokens route) issues, naming
 * the private streams its bearer may see and open. Public streams need none.
 *
 * Claims: `streams` (an array of stream ids, or `"*"` for every stream), `sub` (who, for the customer's own
 * records), `exp` (required, at most MAX_ENTITLEMENT_TTL_S after `iat` or now), optional `iat`/`nbf`, and `iss`/`aud`
 * where the stage configures them for the key that verified the token.
 */

export { ENTITLEMENT_HEADER } from './header.js';
/** A day: long enough for an event, short enough that a leaked token does not outlive its purpose by much. */
export const MAX_ENTITLEMENT_TTL_S = 24 * 3600;
/** Clock skew tolerated between the issuer and Mirror for exp, nbf and iat. */
export const CLOCK_SKEW_S = 60;
/** Stream ids per entitlement: bounds the token and the set built from it. */
export const MAX_ENTITLED_STREAMS = 200;

export type StreamVisibility = 'public' | 'private';

export interface Entitlement {
  readonly subject: string;
  /** `*`: every stream of the stage. */
  readonly streams: '*' | ReadonlySet<string>;
  readonly expiresAtS: number;
}

/** What the key that verified a token requires of its claims. */
export interface ClaimRules {
  readonly issuer?: string;
  readonly audience?: string;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** The entitlement the claims grant, or why they grant none. */
export function readClaims(
  claims: Record<string, unknown>,
  rules: ClaimRules,
  nowS: number,
): Entitlement | string {
  const { exp, iat, nbf, sub, streams, iss, aud } = claims;
  if (!isInt(exp)) return 'exp is required (seconds since the epoch)';
  if (exp <= nowS - CLOCK_SKEW_S) return 'expired';
  if (iat !== undefined && (!isInt(iat) || iat > nowS + CLOCK_SKEW_S)) return 'iat is in the future';
  if (nbf !== undefined && (!isInt(nbf) || nbf > nowS + CLOCK_SKEW_S)) return 'not valid yet (nbf)';
  if (exp - Math.min(nowS, isInt(iat) ? iat : nowS) > MAX_ENTITLEMENT_TTL_S) {
    return `lifetime exceeds ${MAX_ENTITLEMENT_TTL_S} s`;
  }
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) return 'sub must be 1-200 characters';
  if (rules.issuer !== undefined && iss !== rules.issuer) return 'iss is not the configured issuer';
  if (rules.audience !== undefined && !(Array.isArray(aud) ? aud : [aud]).includes(rules.audience)) {
    return 'aud does not name this stage';
  }
  if (streams === '*') return { subject: sub, streams: '*', expiresAtS: exp };
  const ids = Array.isArray(streams) && streams.length <= MAX_ENTITLED_STREAMS ? streams : [0];
  if (!ids.every((id) => typeof id === 'string' && STREAM_ID_REGEX.test(id))) {
    return `streams must be "*" or up to ${MAX_ENTITLED_STREAMS} stream ids`;
  }
  return { subject: sub, streams: new Set(ids as string[]), expiresAtS: exp };
}

/** Whether a viewer with `entitlement` (if any) may see and open the stream: public, or entitled to it. */
export function mayWatch(
  stream: { readonly id: string; readonly visibility?: StreamVisibility },
  entitlement: Entitlement | undefined,
): boolean {
  // Absent = public: only records written before visibility existed lack it, and they were all public (D36).
  if (stream.visibility !== 'private') return true;
  return entitlement !== undefined && (entitlement.streams === '*' || entitlement.streams.has(stream.id));
}
