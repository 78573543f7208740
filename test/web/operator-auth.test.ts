import { describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  base64Url,
  codeChallengeS256,
  codeVerifier,
  logoutUrl,
  newState,
  type OperatorAuthConfig,
  parseAuthConfig,
  parseTokenResponse,
  readCallback,
  tokenRequest,
  usableTokens,
} from '../../web/src/operator-auth.js';

const CONFIG: OperatorAuthConfig = {
  auth: 'cognito',
  cognitoDomain: 'https://mirror-dev-123456789012.auth.eu-west-1.amazoncognito.com',
  clientId: '4abc1defg2hij3klmno4pqrst5',
  scope: 'openid email profile',
  apiBase: '/api/operator',
};
const REDIRECT = 'https://d111111abcdef8.cloudfront.net/operator/';

describe('PKCE (RFC 7636)', () => {
  it('derives the S256 challenge of the appendix B example verifier', async () => {
    expect(await codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('encodes the appendix B octets as the example verifier', () => {
    const octets = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
      191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    expect(codeVerifier(Uint8Array.from(octets))).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  });

  it('makes 43-character unreserved verifiers, different every time', () => {
    const a = codeVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codeVerifier()).not.toBe(a);
    expect(newState()).not.toBe(newState());
    expect(() => codeVerifier(new Uint8Array(16))).toThrow(/32 random bytes/);
  });

  it('refuses verifiers outside RFC 7636 4.1', async () => {
    await expect(codeChallengeS256('short')).rejects.toThrow(/43-128/);
    await expect(codeChallengeS256(`${'a'.repeat(42)}+`)).rejects.toThrow(/43-128/);
  });

  it('writes base64url without padding', () => {
    expect(base64Url(Uint8Array.from([0xfb, 0xff]))).toBe('-_8');
  });
});

describe('Hosted UI URLs and the token request', () => {
  it('builds the authorize URL with code, client, redirect, scope, state and S256 challenge', () => {
    const url = new URL(authorizeUrl(CONFIG, { redirectUri: REDIRECT, state: 'st-1', challenge: 'ch-1' }));
    expect(`${url.origin}${url.pathname}`).toBe(`${CONFIG.cognitoDomain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CONFIG.clientId,
      redirect_uri: REDIRECT,
      scope: 'openid email profile',
      state: 'st-1',
      code_challenge: 'ch-1',
      code_challenge_method: 'S256',
    });
  });

  it('exchanges the code at /oauth2/token as a form post with the verifier and no secret', () => {
    const { url, init } = tokenRequest(CONFIG, {
      code: 'c0de',
      verifier: 'v'.repeat(43),
      redirectUri: REDIRECT,
    });
    expect(url).toBe(`${CONFIG.cognitoDomain}/oauth2/token`);
    expect(init.method).toBe('POST');
    expect(init.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(init.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: CONFIG.clientId,
      code: 'c0de',
      redirect_uri: REDIRECT,
      code_verifier: 'v'.repeat(43),
    });
  });

  it('signs out through /logout back to the page', () => {
    const url = new URL(logoutUrl(CONFIG, REDIRECT));
    expect(url.pathname).toBe('/logout');
    expect(url.searchParams.get('client_id')).toBe(CONFIG.clientId);
    expect(url.searchParams.get('logout_uri')).toBe(REDIRECT);
  });
});

describe('callback and state check', () => {
  it('accepts a code only with the state this tab stored', () => {
    expect(readCallback('?code=abc&state=s1', 's1')).toEqual({ kind: 'code', code: 'abc' });
    expect(readCallback('?code=abc&state=s2', 's1').kind).toBe('error');
    expect(readCallback('?code=abc&state=s1', null).kind).toBe('error');
    expect(readCallback('?code=abc', 's1').kind).toBe('error');
  });

  it('passes on Cognito errors and ignores plain visits', () => {
    expect(readCallback('?error=access_denied&error_description=User+is+disabled', 's1')).toEqual({
      kind: 'error',
      message: 'access_denied: User is disabled',
    });
    expect(readCallback('', 's1')).toEqual({ kind: 'none' });
  });
});

describe('configuration and tokens', () => {
  it('reads the deployed config.json and refuses incomplete or non-https ones (local mode)', () => {
    expect(parseAuthConfig({ ...CONFIG, cognitoDomain: `${CONFIG.cognitoDomain}/` })).toEqual(CONFIG);
    expect(parseAuthConfig(undefined)).toBeUndefined();
    expect(parseAuthConfig({ ...CONFIG, clientId: '' })).toBeUndefined();
    expect(parseAuthConfig({ ...CONFIG, auth: 'bearer' })).toBeUndefined();
    expect(parseAuthConfig({ ...CONFIG, cognitoDomain: 'http://evil.example' })).toBeUndefined();
    expect(parseAuthConfig({ ...CONFIG, apiBase: 'https://elsewhere/api' })).toBeUndefined();
  });

  it('keeps tokens until shortly before they expire', () => {
    const t = parseTokenResponse({ access_token: 'at', id_token: 'it', expires_in: 3600 }, 1_000_000);
    expect(t).toEqual({ accessToken: 'at', idToken: 'it', expiresAt: 1_000_000 + 3_570_000 });
    expect(usableTokens(JSON.stringify(t), t.expiresAt - 1)).toEqual(t);
    expect(usableTokens(JSON.stringify(t), t.expiresAt)).toBeUndefined();
    expect(usableTokens('not json', 0)).toBeUndefined();
    expect(usableTokens(null, 0)).toBeUndefined();
    expect(() => parseTokenResponse({ error: 'invalid_grant' }, 0)).toThrow(/access_token/);
  });
});
