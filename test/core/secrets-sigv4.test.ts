import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectRedis, readSecret } from '../../core/adapters/runtime.js';
import { signGetSecretValue } from '../../core/adapters/secrets.js';
import { freePort } from '../support/ports.js';
import {
  CREDENTIALS,
  type SignedCall,
  sdkAuthorization,
  startSecretsManager,
} from '../support/secrets-manager.js';

// Secrets Manager has no local peer: the server (test/support/secrets-manager.ts) checks each request as the
// service would (the signature recomputed by the SDK's own signer) and answers in its JSON protocol.

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mirror/redis-auth-AbCdEf';

describe('Secrets Manager GetSecretValue without the SDK (signed request)', () => {
  it('signs exactly as the SDK signer does', async () => {
    const host = 'secretsmanager.eu-west-1.amazonaws.com';
    const { headers, body } = signGetSecretValue(
      ARN,
      host,
      'eu-west-1',
      CREDENTIALS,
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    );
    expect(headers['x-amz-date']).toBe('20260102T030405Z');
    expect(JSON.parse(body)).toEqual({ SecretId: ARN });
    const { authorization, ...unsigned } = headers;
    expect(authorization).toBe(await sdkAuthorization(host, unsigned, body));
    expect(authorization).toContain(
      'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,',
    );
  });

  describe('against a server that verifies the signature', () => {
    let server: Server;
    let endpoint: string;
    let redis: ChildProcess;
    let redisPort: number;
    /** Status and body of the next answers; then the secret. */
    const script: [number, unknown][] = [];
    const seen: string[] = [];
    beforeAll(async () => {
      ({ server, endpoint } = await startSecretsManager(answer));
      vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
      vi.stubEnv('AWS_SESSION_TOKEN', CREDENTIALS.sessionToken);
      vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
      redisPort = await freePort();
      redis = spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--requirepass', 'auth-token-1'],
        { stdio: 'ignore' },
      );
    });
    afterAll(async () => {
      vi.unstubAllEnvs();
      redis.kill();
      await new Promise((resolve) => server.close(resolve));
    });

    function answer({ operation, input }: SignedCall): [number, unknown] {
      seen.push(`secretsmanager.${operation}`);
      const next = script.shift();
      if (next) return next;
      expect(input).toEqual({ SecretId: ARN });
      return [
        200,
        { ARN, Name: 'mirror/redis-auth', SecretString: JSON.stringify({ password: 'auth-token-1' }) },
      ];
    }

    it('reads the JSON key and authenticates Redis with it', async () => {
      seen.length = 0;
      expect(await readSecret(ARN, 'password')).toBe('auth-token-1');
      expect(seen).toEqual(['secretsmanager.GetSecretValue']);
      const client = await connectRedis(`redis://127.0.0.1:${redisPort}`, ARN);
      try {
        // Wrong or missing AUTH: NOAUTH on the first command.
        expect(await client.set('k', 'v')).toBe('OK');
      } finally {
        client.disconnect();
      }
    });

    it('retries a 5xx and throttling; a refusal fails at once, named', async () => {
      seen.length = 0;
      script.push([500, { __type: 'InternalServiceError', message: 'try again' }]);
      script.push([400, { __type: 'com.amazonaws#ThrottlingException', message: 'Rate exceeded' }]);
      expect(await readSecret(ARN, 'password')).toBe('auth-token-1');
      expect(seen).toHaveLength(3);
      seen.length = 0;
      script.push([
        400,
        { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
      ]);
      await expect(readSecret(ARN)).rejects.toThrow(
        /GetSecretValue: ResourceNotFoundException: Secrets Manager can't find/,
      );
      expect(seen).toHaveLength(1);
    });
  });
});
