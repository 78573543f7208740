// The operator's credentials in this tab (sessionStorage) and the Cognito Hosted UI round trip (decision D12):
// the browser side of operator-auth.ts's pure helpers.
import * as oauth from '../operator-auth.js';

const TOKEN_KEY = 'mirror.controlToken';
const OAUTH_TOKENS_KEY = 'mirror.operatorTokens';
const OAUTH_PENDING_KEY = 'mirror.operatorSignIn';

/** The page's own URL, registered as the app client's callback and sign-out URL. */
export const pageUrl = () => `${location.origin}/operator/`;

/** The Cognito configuration when /operator/config.json names a user pool (AWS); undefined in the embedded default. */
export async function loadAuthConfig(): Promise<oauth.OperatorAuthConfig | undefined> {
  try {
    const response = await fetch('/operator/config.json', { cache: 'no-store' });
    return response.ok ? oauth.parseAuthConfig(await response.json()) : undefined;
  } catch {
    return undefined; // no file, or not JSON (a local edge answering with a page): bearer-token mode
  }
}

/** Set once a redirect to the Hosted UI is under way: parallel 401s must not start a second one. */
let signingIn = false;

/** Sends the browser to the Hosted UI; the verifier and state wait in sessionStorage for the callback. */
export async function startSignIn(config: oauth.OperatorAuthConfig): Promise<void> {
  // Two requests refused together would otherwise store two states, and the callback would carry the other one.
  if (signingIn) return;
  signingIn = true;
  const verifier = oauth.codeVerifier();
  const state = oauth.newState();
  sessionStorage.setItem(OAUTH_PENDING_KEY, JSON.stringify({ verifier, state }));
  const challenge = await oauth.codeChallengeS256(verifier);
  location.assign(oauth.authorizeUrl(config, { redirectUri: pageUrl(), state, challenge }));
}

/** Handles `?code=&state=` (or `?error=`) from the Hosted UI. Returns a problem to show, or undefined. */
export async function finishSignIn(config: oauth.OperatorAuthConfig): Promise<string | undefined> {
  const pending = JSON.parse(sessionStorage.getItem(OAUTH_PENDING_KEY) ?? '{}') as {
    verifier?: string;
    state?: string;
  };
  const callback = oauth.readCallback(location.search, pending.state ?? null);
  if (callback.kind === 'none') return undefined;
  sessionStorage.removeItem(OAUTH_PENDING_KEY);
  history.replaceState(null, '', location.pathname); // the code is single-use: keep it out of history
  if (callback.kind === 'error') return callback.message;
  if (!pending.verifier) return 'the sign-in was started in another tab; sign in again';
  const { url, init } = oauth.tokenRequest(config, {
    code: callback.code,
    verifier: pending.verifier,
    redirectUri: pageUrl(),
  });
  try {
    const response = await fetch(url, init);
    const json = (await response.json()) as { error?: string };
    if (!response.ok) return `sign-in refused: ${json.error ?? response.status}`;
    sessionStorage.setItem(OAUTH_TOKENS_KEY, JSON.stringify(oauth.parseTokenResponse(json, Date.now())));
    return undefined;
  } catch (error) {
    return `sign-in failed: ${(error as Error).message}`;
  }
}

/** Whether this tab holds Cognito tokens still valid now. */
export function hasUsableTokens(): boolean {
  return oauth.usableTokens(sessionStorage.getItem(OAUTH_TOKENS_KEY), Date.now()) !== undefined;
}

export function hasControlToken(): boolean {
  return Boolean(sessionStorage.getItem(TOKEN_KEY));
}

export function saveControlToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** The Authorization header: the Cognito access token on AWS, else the control token. */
export function authorization(cognito: oauth.OperatorAuthConfig | undefined): string {
  if (cognito) {
    return `Bearer ${oauth.usableTokens(sessionStorage.getItem(OAUTH_TOKENS_KEY), Date.now())?.accessToken ?? ''}`;
  }
  return `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}`;
}

/** Forgets the credential the API refused (expired or revoked tokens, a wrong control token). */
export function forgetRefused(cognito: oauth.OperatorAuthConfig | undefined): void {
  sessionStorage.removeItem(cognito ? OAUTH_TOKENS_KEY : TOKEN_KEY);
}

/** Sign-out: forgets every credential this tab holds. */
export function forgetAll(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OAUTH_TOKENS_KEY);
}
