// OAuth 2.0 authorization code flow with PKCE (RFC 7636) against the Cognito Hosted UI, for the operator page on
// AWS (decision D12). Pure helpers only: no DOM, no storage, no network; web/src/operator/sign-in.ts does the I/O.

/** The runtime configuration the stack deploys as /operator/config.json (OperatorAuth.pageConfig). */
export interface OperatorAuthConfig {
  readonly auth: 'cognito';
  /** https://<prefix>.auth.<region>.amazoncognito.com (or a custom auth domain), no trailing slash. */
  readonly cognitoDomain: string;
  readonly clientId: string;
  /** Space-separated OAuth scopes. */
  readonly scope: string;
  /** Where the control API is reached with the access token, e.g. /api/operator. */
  readonly apiBase: string;
}

export interface StoredTokens {
  readonly accessToken: string;
  readonly idToken?: string;
  /** Epoch milliseconds after which the access token is not sent any more. */
  readonly expiresAt: number;
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The configuration if `json` is a complete Cognito configuration with an https domain; otherwise undefined. */
export function parseAuthConfig(json: unknown): OperatorAuthConfig | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const c = json as Record<string, unknown>;
  if (c.auth !== 'cognito' || !str(c.cognitoDomain) || !str(c.clientId) || !str(c.apiBase)) return undefined;
  if (!/^https:\/\/[^/?#]+$/.test(c.cognitoDomain.replace(/\/+$/, ''))) return undefined;
  if (!c.apiBase.startsWith('/')) return undefined;
  return {
    auth: 'cognito',
    cognitoDomain: c.cognitoDomain.replace(/\/+$/, ''),
    clientId: c.clientId,
    scope: str(c.scope) ? c.scope : 'openid',
    apiBase: c.apiBase.replace(/\/+$/, ''),
  };
}

/** Unpadded base64url (RFC 4648 section 5), as PKCE and JWTs use. */
export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** A code verifier (43 characters from 32 random bytes); `random` is injectable for tests. */
export function codeVerifier(random: Uint8Array = crypto.getRandomValues(new Uint8Array(32))): string {
  if (random.length < 32) throw new Error('a code verifier needs at least 32 random bytes');
  return base64Url(random);
}

/** A state value binding the callback to the request this tab made. */
export function newState(random: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): string {
  return base64Url(random);
}

/** code_challenge for method S256: BASE64URL(SHA256(ASCII(verifier))). */
export async function codeChallengeS256(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
    throw new Error('code verifier must be 43-128 unreserved characters (RFC 7636 section 4.1)');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** The Hosted UI sign-in URL (`/oauth2/authorize`). */
export function authorizeUrl(
  config: OperatorAuthConfig,
  request: { readonly redirectUri: string; readonly state: string; readonly challenge: string },
): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: request.redirectUri,
    scope: config.scope,
    state: request.state,
    code_challenge: request.challenge,
    code_challenge_method: 'S256',
  });
  return `${config.cognitoDomain}/oauth2/authorize?${query}`;
}

/** The code-for-tokens request to `/oauth2/token` (public client: client_id in the body, no secret). */
export function tokenRequest(
  config: OperatorAuthConfig,
  grant: { readonly code: string; readonly verifier: string; readonly redirectUri: string },
): { url: string; init: { method: 'POST'; headers: Record<string, string>; body: string } } {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: config.clientId,
    code: grant.code,
    redirect_uri: grant.redirectUri,
    code_verifier: grant.verifier,
  });
  return {
    url: `${config.cognitoDomain}/oauth2/token`,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    },
  };
}

/** The Hosted UI sign-out URL; Cognito then redirects to `redirectUri` (one of the client's sign-out URLs). */
export function logoutUrl(config: OperatorAuthConfig, redirectUri: string): string {
  const query = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri });
  return `${config.cognitoDomain}/logout?${query}`;
}

export type Callback =
  | { readonly kind: 'none' }
  | { readonly kind: 'code'; readonly code: string }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Reads the redirect back from the Hosted UI (`?code=...&state=...` or `?error=...`). A code whose state is not
 * the one this tab stored is refused (a forged or replayed callback).
 */
export function readCallback(search: string, expectedState: string | null): Callback {
  const query = new URLSearchParams(search);
  const error = query.get('error');
  if (error) {
    const description = query.get('error_description');
    return { kind: 'error', message: description ? `${error}: ${description}` : error };
  }
  const code = query.get('code');
  if (!code) return { kind: 'none' };
  const state = query.get('state');
  if (!expectedState || state !== expectedState) {
    return { kind: 'error', message: 'the sign-in answer does not match this tab’s request; sign in again' };
  }
  return { kind: 'code', code };
}

/** Tokens from a `/oauth2/token` answer; a little before `expires_in` ends they count as expired. */
export function parseTokenResponse(json: unknown, now: number, skewMs = 30_000): StoredTokens {
  const t = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (!str(t.access_token)) throw new Error('the token answer has no access_token');
  const expiresIn = typeof t.expires_in === 'number' && t.expires_in > 0 ? t.expires_in : 3600;
  return {
    accessToken: t.access_token,
    idToken: str(t.id_token) ? t.id_token : undefined,
    expiresAt: now + expiresIn * 1000 - skewMs,
  };
}

/** Stored tokens if they parse and are still valid at `now`. */
export function usableTokens(stored: string | null, now: number): StoredTokens | undefined {
  if (!stored) return undefined;
  try {
    const t = JSON.parse(stored) as Partial<StoredTokens>;
    return str(t.accessToken) && typeof t.expiresAt === 'number' && t.expiresAt > now
      ? (t as StoredTokens)
      : undefined;
  } catch {
    return undefined;
  }
}
