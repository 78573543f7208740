/**
 * The secret header CloudFront adds to every request it sends to the HTTP API (decision D39). API Gateway's default
 * endpoint (or its custom domain) is reachable from the whole internet; a request that did not come through the
 * distribution could otherwise write any `CloudFront-Viewer-Address` (core/contracts/viewer-address.ts) and take a
 * fresh per-address rate-limit bucket with every call. The session function refuses a request without the header
 * (403) before any other work. CloudFront sets the header itself as an origin custom header, so a viewer cannot
 * send it through the distribution; the value lives in a Secrets Manager secret as JSON `{ current, previous? }`:
 * CloudFront sends `current`, the function accepts both, so a rotation never refuses CloudFront's requests.
 */

export const ORIGIN_VERIFY_HEADER = 'x-mirror-origin-verify';

/** The secret's JSON key CloudFront sends; `previous` is accepted too during a rotation. */
export const ORIGIN_VERIFY_CURRENT_KEY = 'current';
export const ORIGIN_VERIFY_PREVIOUS_KEY = 'previous';

/** Shorter values could be guessed; Secrets Manager generates 48 characters. */
export const ORIGIN_VERIFY_MIN_LENGTH = 32;

/**
 * The values the function accepts, from the secret's text: `current` and, when present, `previous`. Throws on a
 * secret that is not that JSON or holds a value shorter than ORIGIN_VERIFY_MIN_LENGTH: a cold start fails loudly
 * rather than an instance accepting a weak or empty value.
 */
export function acceptedOriginValues(secretText: string): readonly string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretText);
  } catch {
    throw new Error('the origin-verify secret is not JSON { "current": "...", "previous"?: "..." }');
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const values: string[] = [];
  for (const key of [ORIGIN_VERIFY_CURRENT_KEY, ORIGIN_VERIFY_PREVIOUS_KEY]) {
    const value = record[key];
    if (value === undefined && key === ORIGIN_VERIFY_PREVIOUS_KEY) continue;
    if (typeof value !== 'string' || value.length < ORIGIN_VERIFY_MIN_LENGTH) {
      throw new Error(
        `the origin-verify secret's "${key}" must be a string of at least ${ORIGIN_VERIFY_MIN_LENGTH} characters`,
      );
    }
    values.push(value);
  }
  return values;
}

/**
 * Whether `presented` is one of the accepted values, comparing every accepted value in full whatever matches
 * first, and each one in time that does not depend on where the strings differ (no early exit on a mismatch).
 */
export function originVerified(presented: string | undefined, accepted: readonly string[]): boolean {
  if (presented === undefined || accepted.length === 0) return false;
  let matched = false;
  for (const value of accepted) matched = constantTimeEqual(presented, value) || matched;
  return matched;
}

function constantTimeEqual(a: string, b: string): boolean {
  // The length is not secret (it is fixed by the generator); the contents are compared without an early exit.
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i) | 0) ^ b.charCodeAt(i);
  return diff === 0;
}
