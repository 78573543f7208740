import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { buildWebAppSync } from '../../web/build.js';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const HOSTED_UI = 'https://mirror-test.auth.eu-west-1.amazoncognito.com';
const CLIENT_ID = 'operatorpageclient0000000';
const SUB = '0b7e4c2a-5d61-4f0e-9a3b-1c2d3e4f5a6b';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const b64url = (b: Buffer) => b.toString('base64url');

/**
 * The AWS path of the operator page, in headless chromium: the page finds /operator/config.json, signs in through
 * a stand-in Hosted UI (authorize + token endpoints that check PKCE and state like Cognito), then calls
 * /api/operator with the access token. A stand-in for API Gateway's JWT authorizer (token -> claims, else 401)
 * invokes the real control Lambda handler with a real Redis, so the audit principal is the one AWS would record.
 */
describe('operator page sign-in on AWS (Cognito Hosted UI, code + PKCE)', () => {
  let redis: RedisServer;
  let work: string;
  let server: Server;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const issued = new Map<string, Record<string, string>>(); // access token -> claims
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const seen = { authorize: 0, token: 0, apiAuthorization: new Set<string>() };

  beforeAll(async () => {
    redis = await startRedis();
    process.env.MIRROR_REDIS_URL = redis.url;
    process.env.MIRROR_SRT_HOST = 'srt.example.net';
    const { handler } = await import('../../functions/control/handler.js');
    work = await mkdtemp(join(tmpdir(), 'mirror-signin-'));
    buildWebAppSync(work);
    await writeFile(
      join(work, 'operator', 'config.json'),
      JSON.stringify({
        auth: 'cognito',
        cognitoDomain: HOSTED_UI,
        clientId: CLIENT_ID,
        scope: 'openid email profile',
        apiBase: '/api/operator',
      }),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', base);
        if (url.pathname.startsWith('/api/')) {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          const header = req.headers.authorization ?? '';
          seen.apiAuthorization.add(header);
          const claims = issued.get(header.replace(/^Bearer /, ''));
          // API Gateway's JWT authorizer answers 401 itself; the function never sees the request.
          if (!url.pathname.startsWith('/api/operator') || !claims) {
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end('{"message":"Unauthorized"}');
            return;
          }
          const event = {
            version: '2.0',
            routeKey: 'ANY /api/operator/{proxy+}',
            rawPath: url.pathname,
            rawQueryString: url.search.slice(1),
            queryStringParameters: Object.fromEntries(url.searchParams),
            headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
            isBase64Encoded: false,
            body: chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined,
            requestContext: {
              http: { method: req.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
              authorizer: { jwt: { claims, scopes: null } },
            },
          } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
          const result = (await handler(event)) as APIGatewayProxyStructuredResultV2;
          res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
          res.end(result.body);
          return;
        }
        const rel = url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
        try {
          const body = await readFile(join(work, normalize(rel).replace(/^(\.\.[/\\])+/, '')));
          res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/json' });
          res.end(body);
        } catch {
          res.writeHead(404);
          res.end('not found');
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

    browser = await launchChromium();
    // The Hosted UI: /oauth2/authorize signs "alice" in at once and redirects back with a code;
    // /oauth2/token gives tokens only for that code with the verifier whose S256 challenge was sent.
    await browser.context.route(`${HOSTED_UI}/**`, async (route: Route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/oauth2/authorize') {
        seen.authorize++;
        const q = url.searchParams;
        if (
          q.get('response_type') !== 'code' ||
          q.get('client_id') !== CLIENT_ID ||
          q.get('code_challenge_method') !== 'S256' ||
          !q.get('state') ||
          !q.get('code_challenge')
        ) {
          return route.fulfill({ status: 400, body: 'bad authorize request' });
        }
        const code = `code-${seen.authorize}`;
        codes.set(code, { challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! });
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state')!);
        return route.fulfill({ status: 302, headers: { location: back.toString() } });
      }
      if (url.pathname === '/oauth2/token') {
        seen.token++;
        const form = new URLSearchParams(route.request().postData() ?? '');
        const grant = codes.get(form.get('code') ?? '');
        const cors = { 'access-control-allow-origin': '*', 'content-type': 'application/json' };
        const verifier = form.get('code_verifier') ?? '';
        const ok =
          grant &&
          form.get('grant_type') === 'authorization_code' &&
          form.get('client_id') === CLIENT_ID &&
          form.get('redirect_uri') === grant.redirectUri &&
          b64url(createHash('sha256').update(verifier).digest()) === grant.challenge;
        if (!ok) return route.fulfill({ status: 400, headers: cors, body: '{"error":"invalid_grant"}' });
        codes.delete(form.get('code')!);
        const accessToken = `access-${seen.token}`;
        issued.set(accessToken, { sub: SUB, username: 'alice', client_id: CLIENT_ID, token_use: 'access' });
        return route.fulfill({
          status: 200,
          headers: cors,
          body: JSON.stringify({
            access_token: accessToken,
            id_token: 'id-not-used',
            refresh_token: 'r',
            expires_in: 3600,
            token_type: 'Bearer',
          }),
        });
      }
      return route.fulfill({ status: 404, body: 'not found' });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await redis?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('signs in with code + PKCE, calls /api/operator as the Cognito user, and re-signs-in on 401', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${base}/operator/`);
    // Straight to the Hosted UI and back: the dashboard, with the code gone from the address bar.
    await page.waitForSelector('input[name="name"]', { timeout: 15_000 });
    expect(seen.authorize).toBe(1);
    expect(seen.token).toBe(1);
    expect(new URL(page.url()).search).toBe('');
    expect(seen.apiAuthorization).toContain('Bearer access-1');

    await page.fill('input[name="name"]', 'Studio A');
    await page.click('#create button[type="submit"]');
    const srtUrl = await page.textContent('dialog[open] .srt-url', { timeout: 10_000 });
    expect(srtUrl).toMatch(/^srt:\/\/srt\.example\.net:9000\?streamid=#!::r=studio-a-/);
    const audit = await redis.client().xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(
      expect.arrayContaining(['who', `cognito:alice (${SUB})`, 'action', 'createStream']),
    );
    await page.click('dialog[open] button');

    // The token is revoked: the next refresh gets 401 and the page signs in again on its own.
    issued.delete('access-1');
    await expect.poll(() => seen.token, { timeout: 15_000 }).toBe(2);
    await page.waitForSelector('tr[data-stream^="studio-a-"]', { timeout: 15_000 });
    expect(seen.authorize).toBe(2);
    expect(seen.apiAuthorization).toContain('Bearer access-2');
    await page.close();
  }, 60_000);

  it('refuses a callback whose state this tab did not ask for, without calling the token endpoint', async () => {
    const page = await browser.context.newPage();
    const tokensBefore = seen.token;
    await page.goto(`${base}/operator/?code=stolen&state=forged`);
    await page.waitForSelector('#sign-in', { timeout: 15_000 });
    expect(await page.textContent('.error-banner')).toMatch(/does not match/);
    expect(seen.token).toBe(tokensBefore);
    await page.close();
  }, 30_000);
});
