import * as z from '../zod.js';

/** A JWKS over https, or plain http on the local machine (tests, the embedded default). */
const JWKS_URL = /^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost)[:/])/;

/**
 * The keys a stage trusts for customers' entitlements (decision D36), as the stage config names them and the
 * session function reads them (MIRROR_ENTITLEMENTS, JSON): a JWKS URL and/or inline public keys (a JWKS document
 * or PEM), and the `iss`/`aud` their tokens must carry. Mirror's own key is trusted besides.
 *
 * Built on first use (decision D48): a session function without MIRROR_ENTITLEMENTS never parses it.
 */
export const EntitlementSettings = z.lazy(() =>
  z
    .strictObject({
      jwksUrl: z.optional(z.string().check(z.regex(JWKS_URL, 'must be an https URL'))),
      keys: z.optional(z.string().check(z.minLength(1), z.maxLength(32_768))),
      issuer: z.optional(z.string().check(z.minLength(1))),
      audience: z.optional(z.string().check(z.minLength(1))),
    })
    .check(z.refine((v) => v.jwksUrl || v.keys, 'set jwksUrl, keys or both')),
);
export type EntitlementSettings = z.infer<typeof EntitlementSettings>;
