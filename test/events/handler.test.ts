import { generateKeyPairSync, sign } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisEventPublisher } from '../../core/adapters/events.js';
import { type RedisServer, startRedis } from '../support/redis.js';

// Decision D44: the Lambda handler itself (functions/events/handler.ts) on a real redis-server: Lambda's streaming
// runtime is the one stand-in (`awslambda.streamifyResponse` passes the response stream; `HttpResponseStream.from`
// records the status and headers it would send first), and so is Cognito's JWKS endpoint (fetch answers the pool's key
// set, and the test checks the exact URL asked).

const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Handler';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'kh', alg: 'RS256', use: 'sig' }] };
const asked: string[] = [];
let server: RedisServer;
let redis: Redis;
type Handler = (event: LambdaFunctionURLEvent, stream: PassThrough) => Promise<void>;
let handler: Handler;

function token(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signed = `${part({ alg: 'RS256', kid: 'kh' })}.${part(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

function event(headers: Record<string, string>): LambdaFunctionURLEvent {
  return {
    rawPath: '/api/operator/events',
    headers,
    requestContext: { http: { method: 'GET', sourceIp: '10.0.0.1' } },
  } as unknown as LambdaFunctionURLEvent;
}

/** Invokes the handler; resolves with what the runtime would send: metadata, then the body as written so far. */
function invoke(headers: Record<string, string>) {
  const stream = new PassThrough() as PassThrough & {
    meta?: { statusCode: number; headers: Record<string, string> };
  };
  let body = '';
  stream.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  const done = handler(event(headers), stream);
  return { stream, done, body: () => body };
}

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  vi.stubGlobal('awslambda', {
    streamifyResponse: (fn: Handler) => fn,
    HttpResponseStream: {
      from: (stream: PassThrough & { meta?: unknown }, meta: unknown) => {
        stream.meta = meta;
        return stream;
      },
    },
  });
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', async (url: string | URL, init?: RequestInit) => {
    if (String(url).startsWith('https://cognito-idp.')) {
      asked.push(String(url));
      return new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } });
    }
    return realFetch(url, init);
  });
  process.env.MIRROR_REDIS_URL = server.url;
  process.env.MIRROR_OPERATOR_ISSUER = ISSUER;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  handler = ((await import('../../functions/events/handler.js')) as unknown as { handler: Handler }).handler;
});

afterAll(async () => {
  vi.unstubAllGlobals();
  redis?.disconnect();
  await server?.stop();
});

describe('the events Lambda handler (D44)', () => {
  it('answers 401 without the operator pool’s token, before subscribing to anything', async () => {
    const plain = invoke({});
    await plain.done;
    expect(plain.stream.meta?.statusCode).toBe(401);
    expect(JSON.parse(plain.body())).toMatchObject({ field: 'x-mirror-authorization' });
    const otherPool = invoke({
      'x-mirror-authorization': `Bearer ${token({ iss: `${ISSUER}x`, token_use: 'access', sub: 's', exp: 9e9 })}`,
    });
    await otherPool.done;
    expect(otherPool.stream.meta?.statusCode).toBe(401);
  });

  it('streams sync and then a published change to a signed-in operator, within a second', async () => {
    const good = token({
      iss: ISSUER,
      token_use: 'access',
      sub: 'u-9',
      username: 'ops',
      exp: Date.now() / 1000 + 600,
    });
    const call = invoke({ 'x-mirror-authorization': `Bearer ${good}` });
    await expect.poll(() => call.body().includes('event: sync')).toBe(true);
    expect(call.stream.meta).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' },
    });
    expect(asked).toEqual([`${ISSUER}/.well-known/jwks.json`]);
    const t0 = performance.now();
    redisEventPublisher(redis)({ type: 'stream', streamId: 'cam-7', action: 'pauseStream' });
    await expect
      .poll(() => call.body().includes('event: stream'), { timeout: 1000, interval: 10 })
      .toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(call.body()).toContain('"action":"pauseStream"');
    // The page goes away: the invocation ends instead of running to its timeout.
    call.stream.destroy();
    await call.done;
  });
});
