import type { Logger } from '../logger.js';
import type { RedisPort } from '../resp/port.js';
import { loadSecretsManager } from './aws-sdk.js';
import { iamPasswordProvider } from './redis-iam.js';
import {
  logRedisOutages,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_MAX_PENDING,
  reconnectOnRedisError,
  redisRetryDelayMs,
} from './redis-policy.js';
import { RespClient } from './resp/client.js';
import { readSecretStringCoalesced } from './secret-batch.js';
import { endpointSetting, environmentCredentials } from './secrets.js';

/**
 * A secret's string value from Secrets Manager (JSON secrets: the named key, else the whole string). On Lambda (the
 * credentials are in the environment) one signed request without the SDK, which costs a cold start 85-150 ms of CPU
 * to load (secrets.ts, D26 amended), and reads made together (a cold start's) one BatchGetSecretValue request
 * (secret-batch.ts, D48); elsewhere (the ingest task's role comes from the ECS credentials endpoint) the SDK with
 * its full credential chain.
 */
export async function readSecret(arn: string, jsonKey?: string): Promise<string> {
  const credentials = environmentCredentials();
  const value = credentials
    ? await readSecretStringCoalesced(arn, credentials, { endpoint: endpointSetting() })
    : await readWithSdk(arn);
  if (!value) throw new Error(`secret ${arn} has no string value`);
  if (jsonKey && value.trimStart().startsWith('{')) {
    const field = (JSON.parse(value) as Record<string, unknown>)[jsonKey];
    if (typeof field === 'string') return field;
  }
  return value;
}

async function readWithSdk(arn: string): Promise<string | undefined> {
  const { GetSecretValueCommand, SecretsManagerClient } = await loadSecretsManager();
  const result = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  return result.SecretString;
}

/**
 * One Redis connection per function instance, on the functions' RESP client (resp/client.ts, D47: ioredis's
 * module load was 41 ms of every cold start). `rediss://` URLs use TLS (ElastiCache in-transit encryption); the
 * password is an IAM token signed at every connection, or the secret's value when an ARN is given. Connect and
 * command timeouts, the backoff and READONLY reconnects come from the shared policy (redis-policy.ts, D18): a
 * request fails fast with a 503 rather than waiting out the Lambda timeout on a Redis that is failing over. With
 * `log`, an outage is logged once (and its end), not at every reconnection attempt.
 */
export async function connectRedis(
  url: string,
  authSecretArn?: string,
  log?: Pick<Logger, 'warn' | 'info'>,
  identity: RedisIdentityEnv = {},
): Promise<RedisPort> {
  const password = await redisPassword(identity, authSecretArn);
  const redis = createFunctionRedisClient(url, { username: identity.MIRROR_REDIS_USER, password });
  if (log) logRedisOutages(redis, log, 'functions');
  return redis;
}

/** The functions' RESP client on `url` with D18's policy (timeouts, backoff, READONLY) and D47's bound. */
export function createFunctionRedisClient(
  url: string,
  auth: {
    readonly username?: string | undefined;
    readonly password?: string | (() => string) | undefined;
  } = {},
): RespClient {
  return new RespClient(url, {
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    retryDelayMs: (attempt) => redisRetryDelayMs(attempt),
    reconnectOnError: reconnectOnRedisError,
    maxPending: REDIS_MAX_PENDING,
  });
}

/** The environment naming a process's Redis user and how it authenticates (RedisEnv, decision D38). */
export interface RedisIdentityEnv {
  readonly MIRROR_REDIS_USER?: string | undefined;
  readonly MIRROR_REDIS_IAM_GROUP?: string | undefined;
}

/**
 * The password of a process's Redis user: an IAM token getter (AWS: the user is IAM-enabled, the role holds
 * elasticache:Connect on it), else the secret's value, else none (a local URL carries user and password).
 */
export async function redisPassword(
  identity: RedisIdentityEnv,
  authSecretArn?: string,
): Promise<string | (() => string) | undefined> {
  if (identity.MIRROR_REDIS_IAM_GROUP && identity.MIRROR_REDIS_USER) {
    const region = process.env.AWS_REGION;
    if (!region) throw new Error('MIRROR_REDIS_IAM_GROUP needs AWS_REGION');
    return iamPasswordProvider({
      replicationGroupId: identity.MIRROR_REDIS_IAM_GROUP,
      userId: identity.MIRROR_REDIS_USER,
      region,
    });
  }
  return authSecretArn ? readSecret(authSecretArn, 'password') : undefined;
}
