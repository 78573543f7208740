import { jwksLoader } from '../../core/adapters/jwks.js';
import { ApiError } from '../../core/api/router.js';
import { ENTITLEMENT_HEADER, type Entitlement } from '../../core/auth/entitlement.js';
import {
  type EntitlementVerifier,
  entitlementVerifier,
  JwksKeys,
  MIRROR_ISSUER,
  mirrorSigningKey,
  parseKeys,
  type VerificationKey,
} from '../../core/auth/keys.js';
import { EntitlementSettings } from '../../core/auth/settings.js';
import type { ViewerTokenKeyEnv } from '../../core/contracts/env.js';
import type { HttpRequest } from '../../core/http.js';
import type * as z from '../../core/zod.js';

/** The request's entitlement (decision D36): undefined without the header, 401 when it does not verify. */
export type EntitlementOf = (request: Pick<HttpRequest, 'headers'>) => Promise<Entitlement | undefined>;

export function entitlementReader(verify: EntitlementVerifier | undefined): EntitlementOf {
  return async (request) => {
    const value = request.headers[ENTITLEMENT_HEADER];
    if (!value) return undefined;
    if (!verify) {
      const message = `${ENTITLEMENT_HEADER}: this stage trusts no entitlement keys`;
      throw new ApiError(401, 'unauthorized', message, ENTITLEMENT_HEADER);
    }
    // `Bearer ` is optional: the header carries nothing else.
    return verify(value.startsWith('Bearer ') ? value.slice(7) : value);
  };
}

/**
 * The stage's verifier: Mirror's own public key (from the viewer-token secret) and the customer's keys
 * (`settings`, inline and JWKS). Undefined when the stage trusts no key: entitlements are then refused.
 * Mirror's key is derived on the first entitlement a request carries, not at cold start (decision D48): deriving an
 * Ed25519 key costs 2-4 ms of a fresh process's CPU, and heartbeats, most of an instance's requests, never verify
 * one. The customer's inline keys are parsed here, so a malformed MIRROR_ENTITLEMENTS still fails the cold start.
 */
export function stageEntitlementVerifier(
  settings: EntitlementSettings | undefined,
  mirrorSecret: string | undefined,
  now: () => number,
  load: (url: string) => () => Promise<unknown> = jwksLoader,
): EntitlementVerifier | undefined {
  const rules = { issuer: settings?.issuer, audience: settings?.audience };
  const inline = settings?.keys ? parseKeys(settings.keys, rules) : [];
  const jwks = settings?.jwksUrl ? new JwksKeys(load(settings.jwksUrl), rules, now) : undefined;
  if (!mirrorSecret && inline.length === 0 && !jwks) return undefined;
  let verifier: EntitlementVerifier | undefined;
  return (token) => {
    verifier ??= entitlementVerifier([...mirrorKeys(mirrorSecret), ...inline], jwks, now);
    return verifier(token);
  };
}

/** Mirror's own verification key, from the viewer-token secret; none without the secret. */
function mirrorKeys(mirrorSecret: string | undefined): VerificationKey[] {
  if (!mirrorSecret) return [];
  const { publicKey, kid, alg } = mirrorSigningKey(mirrorSecret);
  return [{ key: publicKey, kid, alg, rules: { issuer: MIRROR_ISSUER } }];
}

/** From the session function's environment; a malformed MIRROR_ENTITLEMENTS fails the cold start, naming it. */
export async function entitlementVerifierFromEnv(
  env: z.infer<typeof ViewerTokenKeyEnv> & { readonly MIRROR_ENTITLEMENTS?: string },
  readSecret: (arn: string) => Promise<string>,
): Promise<EntitlementVerifier | undefined> {
  const arn = env.MIRROR_VIEWER_TOKEN_SECRET_ARN;
  const secret = arn ? await readSecret(arn) : env.MIRROR_VIEWER_TOKEN_SECRET;
  return stageEntitlementVerifier(entitlementSettings(env.MIRROR_ENTITLEMENTS), secret, Date.now);
}

/** MIRROR_ENTITLEMENTS read: undefined when unset; a malformed value throws, naming the variable. */
export function entitlementSettings(json: string | undefined): EntitlementSettings | undefined {
  if (!json) return undefined;
  const parsed = EntitlementSettings.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`environment variable MIRROR_ENTITLEMENTS: ${parsed.error.message}`);
  return parsed.data;
}
