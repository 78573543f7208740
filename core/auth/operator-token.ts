import { CLOCK_SKEW_S } from './entitlement.js';
import { parseJwt } from './jwt.js';
import { type JwksKeys, verifyingKey } from './keys.js';

/**
 * The operators' Cognito access tokens, verified the way API Gateway's JWT authorizer verifies them for
 * `/api/operator/*` (decision D12), for the one operator endpoint API Gateway does not front: the events stream
 * (decision D44, a Lambda function URL). Same rules: signature by a key of the pool's JWKS (RS256), `iss` the
 * pool, `exp` not passed, an access or ID token, and, where `clientIds` is given, the app client among them
 * (`client_id` in access tokens, `aud` in ID tokens, as the authorizer accepts either). On AWS the pool has exactly
 * one app client, the operator page's, so the pool is the client (core/contracts/env.ts OperatorAuthEnv says why its
 * id is not passed). Key fetching and caching are JwksKeys' (core/auth/keys.ts).
 */
export interface OperatorTokenRules {
  /** `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`. */
  readonly issuer: string;
  readonly clientIds?: readonly string[];
}

/** The claims of a verified operator token, or why it is refused. */
export type OperatorTokenCheck =
  | { readonly ok: true; readonly claims: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

export function operatorTokenVerifier(rules: OperatorTokenRules, jwks: JwksKeys, now: () => number) {
  return async (token: string): Promise<OperatorTokenCheck> => {
    const jwt = parseJwt(token);
    if (typeof jwt === 'string') return { ok: false, reason: jwt };
    const keys = await jwks.find(jwt.header.kid);
    const key = verifyingKey(jwt, keys);
    if (!key) return { ok: false, reason: 'signature does not verify' };
    const { iss, exp, client_id: clientId, aud, token_use: use } = jwt.payload;
    if (iss !== rules.issuer) return { ok: false, reason: 'iss is not the operator user pool' };
    if (typeof exp !== 'number' || exp <= Math.floor(now() / 1000) - CLOCK_SKEW_S) {
      return { ok: false, reason: 'expired' };
    }
    if (use !== 'access' && use !== 'id') return { ok: false, reason: 'token_use must be access or id' };
    const client = use === 'id' ? aud : clientId;
    if (rules.clientIds && (typeof client !== 'string' || !rules.clientIds.includes(client))) {
      return { ok: false, reason: 'not issued to the operator page' };
    }
    return { ok: true, claims: jwt.payload };
  };
}
