import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { awsCaller, jwtPrincipal } from '../../functions/control/aws-caller.js';
import { apiGatewayEvent, useHandlerEnvironment } from './helpers.js';

type Authorizer = Record<string, unknown> | undefined;

/** A call as API Gateway passes it on: the bearer token was checked by the JWT authorizer, not here. */
function event(method: string, path: string, authorizer: Authorizer, body?: unknown) {
  return apiGatewayEvent(method, path, {
    body,
    authorizer,
    headers: { authorization: 'Bearer eyJ.not-checked-here.sig' },
  });
}

// What API Gateway's JWT authorizer puts in the context for a Cognito access token.
const SUB = '7f3c2a10-1b2c-4d5e-8f90-0123456789ab';
const jwt = (claims: Record<string, string>) => ({ jwt: { claims, scopes: null } });
const ACCESS_TOKEN = jwt({ sub: SUB, username: 'alice', token_use: 'access', client_id: 'client123' });

describe('caller from the API Gateway authorizer context', () => {
  it('maps /api/operator onto the control routes and takes the JWT user', () => {
    expect(awsCaller('/api/operator/streams/cam-1', ACCESS_TOKEN)).toEqual({
      path: '/api/control/streams/cam-1',
      viaOperator: true,
      principal: `cognito:alice (${SUB})`,
    });
    expect(awsCaller('/api/operator', undefined)).toEqual({
      path: '/api/control',
      viaOperator: true,
      principal: undefined,
    });
  });

  it('ignores IAM context on operator paths and JWT context on control paths', () => {
    const iam = { iam: { userArn: 'arn:aws:iam::123456789012:user/ops' } };
    expect(awsCaller('/api/operator/streams', iam).principal).toBeUndefined();
    expect(awsCaller('/api/control/streams', ACCESS_TOKEN).principal).toBeUndefined();
    expect(awsCaller('/api/control/streams', iam).principal).toBe('arn:aws:iam::123456789012:user/ops');
  });

  it('does not treat look-alike prefixes as operator paths', () => {
    expect(awsCaller('/api/operatorx/streams', ACCESS_TOKEN)).toMatchObject({
      path: '/api/operatorx/streams',
      viaOperator: false,
    });
  });

  it('names ID-token users by cognito:username and falls back to sub', () => {
    expect(jwtPrincipal({ sub: SUB, 'cognito:username': 'bob' })).toBe(`cognito:bob (${SUB})`);
    expect(jwtPrincipal({ sub: SUB })).toBe(`cognito:${SUB}`);
    expect(jwtPrincipal({})).toBeUndefined();
    expect(jwtPrincipal({ sub: '' })).toBeUndefined();
  });
});

describe('control handler on /api/operator (JWT authorizer)', () => {
  const server = useHandlerEnvironment();

  it('accepts the JWT user, audits it, and answers with operator-prefixed locations', async () => {
    const { handler } = await import('../../functions/control/handler.js');
    const created = (await handler(
      event('POST', '/api/operator/streams', ACCESS_TOKEN, { id: 'cam-7', name: 'Seven' }),
    )) as APIGatewayProxyStructuredResultV2;
    expect(created.statusCode).toBe(201);
    expect(created.headers?.location).toBe('/api/operator/streams/cam-7');
    const audit = await server().client().xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(
      expect.arrayContaining(['who', `cognito:alice (${SUB})`, 'action', 'createStream', 'target', 'cam-7']),
    );
    const listed = (await handler(
      event('GET', '/api/operator/streams', ACCESS_TOKEN),
    )) as APIGatewayProxyStructuredResultV2;
    expect(listed.statusCode).toBe(200);
    expect(JSON.stringify(JSON.parse(listed.body as string))).toContain('cam-7');
  });

  it('refuses operator paths without JWT claims (401), even with an IAM principal', async () => {
    const { handler } = await import('../../functions/control/handler.js');
    for (const authorizer of [
      undefined,
      { jwt: { claims: {}, scopes: null } },
      { iam: { userArn: 'arn:x' } },
    ]) {
      const refused = (await handler(
        event('GET', '/api/operator/streams', authorizer),
      )) as APIGatewayProxyStructuredResultV2;
      expect(refused.statusCode).toBe(401);
    }
    const before = await server().client().xlen(AUDIT_STREAM);
    const deleted = (await handler(
      event('DELETE', '/api/operator/streams/cam-7', undefined),
    )) as APIGatewayProxyStructuredResultV2;
    expect(deleted.statusCode).toBe(401);
    expect(await server().client().xlen(AUDIT_STREAM)).toBe(before);
  });
});
