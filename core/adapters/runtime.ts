import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';

/** A secret's string value from Secrets Manager (JSON secrets: the named key, else the whole string). */
export async function readSecret(arn: string, jsonKey?: string): Promise<string> {
  const result = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  const value = result.SecretString;
  if (!value) throw new Error(`secret ${arn} has no string value`);
  if (jsonKey && value.trimStart().startsWith('{')) {
    const field = (JSON.parse(value) as Record<string, unknown>)[jsonKey];
    if (typeof field === 'string') return field;
  }
  return value;
}

/**
 * One Redis connection per function instance. `rediss://` URLs use TLS (ElastiCache in-transit encryption);
 * the AUTH token comes from Secrets Manager when an ARN is given.
 */
export async function connectRedis(url: string, authSecretArn?: string): Promise<Redis> {
  const password = authSecretArn ? await readSecret(authSecretArn, 'password') : undefined;
  return new Redis(url, {
    password,
    // Fail a request fast rather than queue it for a whole Lambda timeout.
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
}
