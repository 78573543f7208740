import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { type RedisServer, startRedis } from '../support/redis.js';

function event(
  method: string,
  path: string,
  body?: unknown,
  userArn?: string,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: body === undefined ? undefined : JSON.stringify(body),
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      ...(userArn ? { authorizer: { iam: { userArn } } } : {}),
    },
  } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;
}

// The Lambda entry points: configuration from MIRROR_* at cold start, API Gateway events in and out.
describe('Lambda handlers', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
    process.env.MIRROR_REDIS_URL = server.url;
    process.env.MIRROR_SRT_HOST = 'srt.example.net';
    process.env.MIRROR_SESSION_SECRET = 'handler-test-secret-0123456789abcdef';
  });
  afterAll(async () => {
    await server.stop();
  });

  it('control: the IAM caller is the audit principal; without one the call is refused', async () => {
    const { handler } = await import('../../functions/control/handler.js');
    const arn = 'arn:aws:iam::123456789012:user/operator';
    const created = (await handler(
      event('POST', '/api/control/streams', { id: 'cam-9', name: 'Nine' }, arn),
    )) as APIGatewayProxyStructuredResultV2;
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body as string).credentials.srtUrl).toMatch(
      /^srt:\/\/srt\.example\.net:9000\?/,
    );
    const refused = (await handler(
      event('GET', '/api/control/streams'),
    )) as APIGatewayProxyStructuredResultV2;
    expect(refused.statusCode).toBe(401);
    const audit = await server.client().xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(expect.arrayContaining(['who', arn, 'action', 'createStream']));
  });

  it('session: creates a session from an API Gateway event', async () => {
    const { handler } = await import('../../functions/session/handler.js');
    const created = (await handler(
      event('POST', '/api/sessions', { layout: '1x1', tiles: ['cam-9'] }) as APIGatewayProxyEventV2,
    )) as APIGatewayProxyStructuredResultV2;
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body as string).tiles[0].streamId).toBe('cam-9');
  });
});
