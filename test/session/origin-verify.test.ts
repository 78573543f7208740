import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromApiGatewayEvent, refuseUnlessFromCloudFront } from '../../core/adapters/api-gateway.js';
import { rateLimitKey } from '../../core/adapters/sessions/ratelimit.js';
import {
  acceptedOriginValues,
  ORIGIN_VERIFY_HEADER,
  originVerified,
} from '../../core/contracts/origin-verify.js';
import { VIEWER_ADDRESS_HEADER } from '../../core/contracts/viewer-address.js';
import { apiGatewayEvent, useHandlerEnvironment } from '../control/helpers.js';

// D39: the session API answers requests that came through CloudFront only, so a direct execute-api call cannot
// forge the viewer address its rate limit counts.

const CURRENT = 'current-origin-value-0123456789abcdefghij';
const PREVIOUS = 'previous-origin-value-0123456789abcdefghi';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mirror-origin-verify-AbCdEf';

describe('the origin-verify values', () => {
  it('accepts current and previous from the secret, and refuses a weak or malformed secret', () => {
    expect(acceptedOriginValues(JSON.stringify({ current: CURRENT, previous: PREVIOUS }))).toEqual([
      CURRENT,
      PREVIOUS,
    ]);
    expect(acceptedOriginValues(JSON.stringify({ current: CURRENT }))).toEqual([CURRENT]);
    expect(() => acceptedOriginValues(CURRENT)).toThrow(/not JSON/);
    expect(() => acceptedOriginValues(JSON.stringify({ current: 'short' }))).toThrow(/"current".*32/);
    expect(() => acceptedOriginValues(JSON.stringify({ current: CURRENT, previous: 7 }))).toThrow(
      /"previous"/,
    );
  });

  it('matches whole values only: no prefix, extension, case change or empty value', () => {
    const accepted = [CURRENT, PREVIOUS];
    expect(originVerified(CURRENT, accepted)).toBe(true);
    expect(originVerified(PREVIOUS, accepted)).toBe(true);
    for (const wrong of [CURRENT.slice(0, -1), `${CURRENT}x`, CURRENT.toUpperCase(), '', undefined]) {
      expect(originVerified(wrong, accepted), String(wrong)).toBe(false);
    }
    expect(originVerified(CURRENT, [])).toBe(false);
  });

  it('is off without accepted values (the embedded default), and the apps never see the header', () => {
    const event = apiGatewayEvent('GET', '/api/sessions/streams', {
      headers: { [ORIGIN_VERIFY_HEADER]: CURRENT },
    });
    expect(refuseUnlessFromCloudFront(apiGatewayEvent('GET', '/x'), undefined)).toBeUndefined();
    expect(fromApiGatewayEvent(event).headers[ORIGIN_VERIFY_HEADER]).toBeUndefined();
  });
});

describe('the session function behind API Gateway', () => {
  const redis = useHandlerEnvironment({ MIRROR_SESSION_SECRET: 'origin-test-secret-0123456789abcdef' });
  // Secrets Manager's GetSecretValue, answered locally (no local peer exists for it); every request is kept.
  const reads: { target: string; body: string; authorization: string }[] = [];
  let secretsManager: Server;

  beforeAll(async () => {
    secretsManager = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        reads.push({
          target: String(req.headers['x-amz-target']),
          body: Buffer.concat(chunks).toString('utf8'),
          authorization: String(req.headers.authorization),
        });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({ ARN, SecretString: JSON.stringify({ current: CURRENT, previous: PREVIOUS }) }),
        );
      });
    });
    await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      MIRROR_ORIGIN_VERIFY_SECRET_ARN: ARN,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`,
    });
  });

  afterAll(async () => {
    for (const name of [
      'MIRROR_ORIGIN_VERIFY_SECRET_ARN',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    ]) {
      delete process.env[name];
    }
    await new Promise((resolve) => secretsManager.close(resolve));
  });

  const call = async (headers: Record<string, string>) => {
    const { handler } = await import('../../functions/session/handler.js');
    return (await handler(
      apiGatewayEvent('POST', '/api/sessions', { body: { layout: '1x1', tiles: [] }, headers }),
    )) as APIGatewayProxyStructuredResultV2;
  };

  it('refuses a direct call, forged viewer address and all, with 403 before touching Redis', async () => {
    const client = redis().client();
    const forged = { [VIEWER_ADDRESS_HEADER]: '203.0.113.9:4444' };
    for (const headers of [forged, { ...forged, [ORIGIN_VERIFY_HEADER]: `${CURRENT}x` }]) {
      const refused = await call(headers);
      expect(refused.statusCode).toBe(403);
      expect(JSON.parse(refused.body as string)).toMatchObject({
        error: 'forbidden',
        field: ORIGIN_VERIFY_HEADER,
      });
    }
    expect(await client.exists(rateLimitKey('203.0.113.9'))).toBe(0);
    expect(await client.dbsize()).toBe(0);
  });

  it("answers CloudFront's requests with the current or the previous value (a rotation in progress)", async () => {
    for (const value of [CURRENT, PREVIOUS]) {
      const created = await call({
        [ORIGIN_VERIFY_HEADER]: value,
        [VIEWER_ADDRESS_HEADER]: '198.51.100.20:5000',
      });
      expect(created.statusCode, String(created.body)).toBe(201);
    }
    expect(await redis().client().exists(rateLimitKey('198.51.100.20'))).toBe(1);
  });

  it('read the secret once, at cold start, signed, by its ARN', () => {
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      target: 'secretsmanager.GetSecretValue',
      body: JSON.stringify({ SecretId: ARN }),
    });
    expect(reads[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\//,
    );
  });
});
