import { createHash, createHmac } from 'node:crypto';
import { post1 } from './http1.js';

/**
 * Secrets Manager's GetSecretValue as one signed HTTPS request, without the SDK (decision D26, amended). Every
 * function reads the Redis AUTH token at cold start, and loading @aws-sdk/client-secrets-manager for that one call
 * cost 85-150 ms of CPU here, more than the rest of a function's initialisation. The request is the documented JSON
 * protocol (`X-Amz-Target: secretsmanager.GetSecretValue`) signed with Signature Version 4 from the credentials
 * Lambda puts in the environment; test/core/secrets-sigv4.test.ts checks the signature against the SDK's own signer.
 * The same IAM permission (secretsmanager:GetSecretValue on the ARN) and the same network path (the regional
 * endpoint) as the SDK; rotation behaves as before: the value is read once per instance, at cold start. Reads
 * issued together go out as one BatchGetSecretValue, signed the same way (secret-batch.ts, D48).
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Lambda's credentials (the execution role's, always in its environment), or undefined where the environment holds
 * none (the ECS task role, a profile on a laptop) or asks for FIPS endpoints, which only the SDK knows.
 */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentials | undefined {
  if (env.AWS_USE_FIPS_ENDPOINT === 'true') return undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/** The SDK's endpoint settings, honoured alike (the service's own first): the cold-start bench serves the secret locally. */
export function endpointSetting(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined;
}

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`: the region and partition a secret lives in. */
export function secretLocation(arn: string): { readonly region: string; readonly endpoint: string } {
  const [prefix, partition, service, region] = arn.split(':');
  if (prefix !== 'arn' || service !== 'secretsmanager' || !partition || !region) {
    throw new Error(`not a Secrets Manager ARN: ${arn}`);
  }
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { region, endpoint: `https://secretsmanager.${region}.${suffix}` };
}

export interface SignedRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

const SERVICE = 'secretsmanager';
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The GetSecretValue POST to `/` of `host`, signed (SigV4, all headers signed) at `now`. Pure but for the clock. */
export function signGetSecretValue(
  secretId: string,
  host: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): SignedRequest {
  return signSecretsManager('GetSecretValue', { SecretId: secretId }, host, region, credentials, now);
}

/** A Secrets Manager `operation` with its JSON `input`, signed as signGetSecretValue signs (BatchGetSecretValue). */
export function signSecretsManager(
  operation: string,
  input: unknown,
  host: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): SignedRequest {
  const body = JSON.stringify(input);
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host,
    'x-amz-date': amzDate,
    'x-amz-target': `secretsmanager.${operation}`,
  };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((name) => `${name}:${headers[name]!.trim()}`),
    '',
    signedHeaders,
    sha256(body),
  ].join('\n');
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), SERVICE),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, body };
}

/** A refusal or failure of Secrets Manager, named as the service names it (no secret material). */
export class SecretReadError extends Error {
  constructor(
    message: string,
    /** Worth another attempt: throttling, a 5xx, a network error or timeout. */
    readonly retryable: boolean,
    /** The service's error type (`ResourceNotFoundException`), or `HTTP <status>` where it named none. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SecretReadError';
  }
}

/** Per attempt; the SDK has none by default, but a cold start must not hang on a held socket. */
const ATTEMPT_TIMEOUT_MS = 3000;
/** The SDK's standard retry mode also makes 3 attempts. */
export const ATTEMPTS = 3;
const BACKOFF_MS = 100;

/** Worth another attempt: anything but a refusal the service named as final (a network error is retryable). */
export const isRetryable = (error: unknown): boolean =>
  !(error instanceof SecretReadError) || error.retryable;

/** The pause before attempt `attempt + 1`, doubling. */
export const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** (attempt - 1)));

export interface SignedReadOptions {
  /** Where to send it; the secret's regional endpoint by default (a test points it at a local server). */
  readonly endpoint?: string;
  readonly now?: () => Date;
}

/** GetSecretValue's SecretString, signed with `credentials`; retried on throttling, 5xx and network errors. */
export async function getSecretStringSigned(
  arn: string,
  credentials: AwsCredentials,
  options: SignedReadOptions = {},
): Promise<string | undefined> {
  const { region, endpoint } = secretLocation(arn);
  const url = new URL(options.endpoint ?? endpoint);
  for (let attempt = 1; ; attempt++) {
    const signed = signGetSecretValue(arn, url.host, region, credentials, options.now?.());
    try {
      const answer = JSON.parse(await postSigned(url, signed, 'GetSecretValue')) as {
        SecretString?: string;
      };
      return answer.SecretString;
    } catch (error) {
      if (!isRetryable(error) || attempt >= ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * `signed` POSTed to `url`: the 2xx body, else the service's refusal named after `operation`. On a socket of its
 * own, not node:http: its first request costs about 7 ms more CPU at every cold start (http1.ts).
 */
export async function postSigned(url: URL, signed: SignedRequest, operation: string): Promise<string> {
  const response = await post1(url, signed.headers, signed.body, {
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    onTimeout: () => new SecretReadError('Secrets Manager did not answer in time', true),
  });
  if (response.status >= 200 && response.status < 300) return response.body;
  throw refusal(operation, response.status, response.body);
}

/** Secrets Manager's error body: `{"__type": "...#ResourceNotFoundException", "message": "..."}`. */
function refusal(operation: string, status: number, text: string): SecretReadError {
  let type = `HTTP ${status}`;
  let message = '';
  try {
    const body = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    type = body.__type?.split('#').pop() ?? type;
    message = body.message ?? body.Message ?? '';
  } catch {
    // Not JSON (a proxy's page): the status is all there is to report.
  }
  const retryable = status >= 500 || status === 429 || /Throttl/.test(type);
  return new SecretReadError(
    `Secrets Manager ${operation}: ${type}${message ? `: ${message}` : ''}`,
    retryable,
    type,
  );
}
