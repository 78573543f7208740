import { createHash, createHmac } from 'node:crypto';
import { type AwsCredentials, environmentCredentials } from './secrets.js';

/**
 * ElastiCache IAM authentication (decision D38): the password of an IAM-enabled ElastiCache user is a SigV4
 * presigned request `GET http://{replicationGroupId}/?Action=connect&User={userId}`, without its scheme, signed by
 * the process's role (which needs elasticache:Connect on the group and on that user). ElastiCache accepts it for
 * 15 minutes after signing and closes an IAM-authenticated connection after 12 hours, so every (re)connection signs
 * a fresh one: the client reads the password through a getter (redis.ts), never a stored string.
 * Pure but for the clock; test/core/redis-iam.test.ts checks it against the SDK's own presigner.
 */

/** What ElastiCache accepts: a token signed at most this long ago (seconds). */
export const IAM_TOKEN_EXPIRES_S = 900;
const SERVICE = 'elasticache';

export interface IamTokenRequest {
  /** The replication group id (lowercase, as ElastiCache stores it). */
  readonly replicationGroupId: string;
  /** The ElastiCache user id (equal to its user name for IAM-enabled users). */
  readonly userId: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
}

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The IAM auth token for `request`, signed at `now`. */
export function elastiCacheIamToken(request: IamTokenRequest, now: Date = new Date()): string {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${request.region}/${SERVICE}/aws4_request`;
  const params: Record<string, string> = {
    Action: 'connect',
    User: request.userId,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${request.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(IAM_TOKEN_EXPIRES_S),
    'X-Amz-SignedHeaders': 'host',
  };
  if (request.credentials.sessionToken) params['X-Amz-Security-Token'] = request.credentials.sessionToken;
  const query = Object.keys(params)
    .sort()
    .map((name) => `${encode(name)}=${encode(params[name] as string)}`)
    .join('&');
  const canonical = ['GET', '/', query, `host:${request.replicationGroupId}`, '', 'host', sha256('')].join(
    '\n',
  );
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${request.credentials.secretAccessKey}`, day), request.region), SERVICE),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `${request.replicationGroupId}/?${query}&X-Amz-Signature=${signature}`;
}

/** How often a long-running process (the ingest task) refreshes the role credentials it signs tokens with. */
export const IAM_CREDENTIALS_REFRESH_MS = 5 * 60_000;

/**
 * A password getter signing a fresh token per connection. Lambda's role credentials are in its environment (read
 * at each call: a runtime could renew them); elsewhere (the ECS task role) they come from the SDK's provider chain,
 * refreshed in the background, since the getter itself must answer synchronously.
 */
export async function iamPasswordProvider(
  target: Omit<IamTokenRequest, 'credentials'>,
  options: { readonly load?: () => Promise<AwsCredentials>; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<() => string> {
  const env = options.env ?? process.env;
  if (!options.load && environmentCredentials(env)) {
    return () =>
      elastiCacheIamToken({ ...target, credentials: environmentCredentials(env) as AwsCredentials });
  }
  const load = options.load ?? (await sdkCredentialChain());
  let current = await load();
  const timer = setInterval(() => {
    load().then(
      (fresh) => {
        current = fresh;
      },
      () => undefined, // keep signing with the last credentials; they outlive one missed refresh
    );
  }, IAM_CREDENTIALS_REFRESH_MS);
  timer.unref();
  return () => elastiCacheIamToken({ ...target, credentials: current });
}

async function sdkCredentialChain(): Promise<() => Promise<AwsCredentials>> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const provider = defaultProvider();
  return () => provider();
}
