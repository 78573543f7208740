import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { apiGatewayEvent, useHandlerEnvironment } from './helpers.js';

const iam = (userArn: string) => ({ iam: { userArn } });

// The Lambda entry points: configuration from MIRROR_* at cold start, API Gateway events in and out.
describe('Lambda handlers', () => {
  const server = useHandlerEnvironment({ MIRROR_SESSION_SECRET: 'handler-test-secret-0123456789abcdef' });

  it('control: the IAM caller is the audit principal; without one the call is refused', async () => {
    const { handler } = await import('../../functions/control/handler.js');
    const arn = 'arn:aws:iam::123456789012:user/operator';
    const created = (await handler(
      apiGatewayEvent('POST', '/api/control/streams', {
        body: { id: 'cam-9', name: 'Nine' },
        authorizer: iam(arn),
      }),
    )) as APIGatewayProxyStructuredResultV2;
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body as string).credentials.srtUrl).toMatch(
      /^srt:\/\/srt\.example\.net:9000\?/,
    );
    const refused = (await handler(
      apiGatewayEvent('GET', '/api/control/streams'),
    )) as APIGatewayProxyStructuredResultV2;
    expect(refused.statusCode).toBe(401);
    const audit = await server().client().xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(expect.arrayContaining(['who', arn, 'action', 'createStream']));
  });

  it('session: creates a session from an API Gateway event', async () => {
    const { handler } = await import('../../functions/session/handler.js');
    const created = (await handler(
      apiGatewayEvent('POST', '/api/sessions', { body: { layout: '1x1', tiles: ['cam-9'] } }),
    )) as APIGatewayProxyStructuredResultV2;
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body as string).tiles[0].streamId).toBe('cam-9');
  });
});
