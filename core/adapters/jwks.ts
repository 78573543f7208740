/** A JWKS document larger than this is refused: a key set has a handful of keys (a few KB). */
export const MAX_JWKS_BYTES = 64 * 1024;
/** A slow key server delays only the requests that need a refetch, and not for long. */
export const JWKS_TIMEOUT_MS = 2000;

/** Fetches the customer's JWKS document (the port of core/auth/keys.ts JwksKeys), bounded in time and size. */
export function jwksLoader(url: string): () => Promise<unknown> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS), redirect: 'error' });
    // The declared length first, so a huge document is not read at all; the timeout bounds an undeclared one.
    if (Number(response.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES)
      throw new Error('JWKS too large');
    const text = await response.text();
    if (!response.ok || text.length > MAX_JWKS_BYTES) throw new Error(`JWKS answered ${response.status}`);
    return JSON.parse(text) as unknown;
  };
}
