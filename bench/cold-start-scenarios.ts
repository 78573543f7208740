import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { ControlEnv, ManifestEnv, readEnv, SessionEnv } from '../core/contracts/env.js';
import { createSessionApp } from '../functions/session/app.js';
import { apiGatewayEvent, capturingLogger } from '../test/control/helpers.js';
import { functionUrlEvent, SyntheticRendition } from '../test/manifest/helpers.js';
import { createStreams, withToken } from '../test/session/helpers.js';
import { localhostCertificate } from '../test/support/tls.js';

/**
 * What the cold-start bench (cold-start.ts) needs per function: its environment as on AWS, with the secrets read
 * from Secrets Manager's ARNs (served by a local stand-in, so the signed read runs as on Lambda), and one
 * representative first request: a playlist for manifest, a heartbeat for session, a stream list for control.
 */

/** A secret's ARN in the bench's account: one per secret a function reads, as on AWS (D48 batches distinct ids). */
const secretArn = (name: string) =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:mirror/bench-${name}-AbCdEf`;
export const SECRET_ARN = secretArn('redis-auth');
/** The session-signing secret the stand-in serves (the bench creates the heartbeat's session with it). */
const SESSION_SECRET = 'b'.repeat(64);
/** The origin-verify value CloudFront adds to API requests (D39); the heartbeat carries it. */
const ORIGIN_VERIFY = 'o'.repeat(40);

/**
 * One JSON secret that reads as every secret a function reads at cold start: the Redis AUTH token (`password`), the
 * session secret (`secret`), the origin-verify values (`current`) and the playback key ring (`version`, `keys`).
 * The stand-in serves it under every ARN.
 */
const BENCH_SECRET = {
  password: 'bench-auth-token',
  secret: SESSION_SECRET,
  current: ORIGIN_VERIFY,
  version: 1,
  keys: [{ kid: 'bench1', secret: 'k'.repeat(64), createdAtMs: 0, activeFromMs: 0 }],
};

/**
 * Secrets Manager's GetSecretValue and BatchGetSecretValue answered locally, every ARN holding BENCH_SECRET. The
 * bench's redis-server has no password: the RESP client goes on after the same AUTH round trip. With `tls` (the
 * bench's `--secrets-tls`), over HTTPS with a self-signed certificate the functions trust through `env`
 * (NODE_EXTRA_CA_CERTS): a TLS handshake per connection, as on AWS.
 */
export async function startSecretsStandIn(
  tls = false,
): Promise<{ url: string; server: Server; env: Record<string, string> }> {
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target']).replace(/^secretsmanager\./, '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        SecretId?: string;
        SecretIdList?: string[];
      };
      const entry = (id: string) => ({ ARN: id, SecretString: JSON.stringify(BENCH_SECRET) });
      const answer =
        operation === 'BatchGetSecretValue'
          ? { SecretValues: (input.SecretIdList ?? []).map(entry), Errors: [] }
          : entry(input.SecretId ?? SECRET_ARN);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
    });
  };
  const certificate = tls ? localhostCertificate('mirror-bench-secrets-') : undefined;
  const server = certificate
    ? createTlsServer({ cert: readFileSync(certificate.cert), key: readFileSync(certificate.key) }, serve)
    : createServer(serve);
  if (certificate) server.on('close', () => rmSync(certificate.dir, { recursive: true, force: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return certificate
    ? { url: `https://localhost:${port}`, server, env: { NODE_EXTRA_CA_CERTS: certificate.cert } }
    : { url: `http://127.0.0.1:${port}`, server, env: {} };
}

export interface Scenario {
  readonly env: Record<string, string>;
  /** Called before each cold start: the representative first request (fresh, if it must be). */
  readonly firstRequest: () => Promise<{ readonly event: unknown; readonly status: number }>;
}

const STREAM = 'bench';

/** Streams the control list shows and the session allocates; one live rendition for the manifest's playlist. */
export async function seed(redis: Redis, mediaDir: string): Promise<SyntheticRendition> {
  await createStreams(redis, [STREAM, 'bench-2', 'bench-3']);
  const rendition = new SyntheticRendition(
    new LiveState(redis),
    new LocalDiskStorage(mediaDir),
    STREAM,
    '360p',
  );
  await rendition.init();
  await rendition.parts(6);
  return rendition;
}

/** What AppFunction and the bindings set on AWS, with plausible values and Lambda-shaped (fake) credentials. */
export async function scenarioOf(
  name: string,
  redis: Redis,
  redisUrl: string,
  secretsUrl: string,
  rendition: SyntheticRendition,
): Promise<Scenario> {
  const common = {
    MIRROR_REDIS_URL: redisUrl,
    MIRROR_REDIS_AUTH_SECRET_ARN: SECRET_ARN,
    MIRROR_STAGE: 'bench',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: 'Mirror',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIABENCHEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
    AWS_SESSION_TOKEN: 'bench-session-token',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
  };
  if (name === 'manifest') {
    const env = { ...common, MIRROR_STORAGE: 's3', MIRROR_BUCKET: 'mirror-bench-media' };
    readEnv(ManifestEnv, env);
    return {
      env,
      firstRequest: async () => {
        // A part per cold start keeps the stream live however long the runs take.
        await rendition.part();
        return { event: functionUrlEvent(`/${STREAM}/360p/playlist.m3u8`), status: 200 };
      },
    };
  }
  if (name === 'session') {
    const env = {
      ...common,
      MIRROR_SESSION_SECRET_ARN: secretArn('session'),
      MIRROR_PLAYBACK_PROTECTION: 'on',
      MIRROR_PLAYBACK_KEYS_SECRET_ARN: secretArn('playback-keys'),
      MIRROR_ORIGIN_VERIFY_SECRET_ARN: secretArn('origin-verify'),
    };
    readEnv(SessionEnv, env);
    const app = createSessionApp({ redis, logger: capturingLogger([]), secret: SESSION_SECRET });
    const created = await app.handle({
      ...withToken('', 'POST', '/api/sessions', { layout: '1x1', tiles: [STREAM] }),
      headers: { 'content-type': 'application/json' },
    });
    if (created.status !== 201)
      throw new Error(`bench session not created: ${created.status} ${created.body}`);
    const { sessionId, token } = JSON.parse(String(created.body)) as { sessionId: string; token: string };
    const tile = { widthPx: 640, heightPx: 360, droppedFrames: 0, decodedFrames: 150 };
    const event = apiGatewayEvent('POST', `/api/sessions/${sessionId}/heartbeat`, {
      body: { bandwidthKbps: 5000, tiles: [tile] },
      headers: { authorization: `Bearer ${token}`, 'x-mirror-origin-verify': ORIGIN_VERIFY },
    });
    return { env, firstRequest: async () => ({ event, status: 200 }) };
  }
  if (name === 'control') {
    const env = {
      ...common,
      MIRROR_SRT_HOST: 'ingest.mirror.example',
      MIRROR_SRT_PORT: '9000',
      MIRROR_ECS_CLUSTER: 'mirror-bench',
      MIRROR_ECS_SERVICE: 'mirror-bench-ingest',
      MIRROR_MIN_TASKS: '1',
      MIRROR_MAX_TASKS: '4',
      MIRROR_DISTRIBUTION_ID: 'E2BENCHEXAMPLE',
      MIRROR_REDIS_REPLICATION_GROUP: 'mirror-bench-live',
    };
    readEnv(ControlEnv, env);
    const event = apiGatewayEvent('GET', '/api/control/streams', {
      authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/bench' } },
    });
    return { env, firstRequest: async () => ({ event, status: 200 }) };
  }
  throw new Error(`no bench scenario for function ${name}: add one in bench/cold-start-scenarios.ts`);
}

/**
 * References built like the handlers: the SDK packages each function imported at module scope before D26's
 * amendment (the previous approach, its difference to today's init), and the S3 package as the manifest now
 * loads it on its first part request.
 */
export const SDK_REFERENCES: Readonly<Record<string, string>> = {
  'ref: control D26 SDK imports': sdkImports([
    'client-secrets-manager',
    'client-ecs',
    'client-cloudfront',
    'client-elasticache',
  ]),
  'ref: manifest D26 SDK imports': sdkImports(['client-secrets-manager', 'client-s3']),
  'ref: session D26 SDK imports': sdkImports(['client-secrets-manager']),
  'ref: S3 on first part (require)':
    "import { createRequire } from 'node:module';\n" +
    "const { S3Client } = createRequire(import.meta.url)('@aws-sdk/client-s3');\nnew S3Client({});\n",
};

function sdkImports(packages: readonly string[]): string {
  const lines = packages.map((p, i) => `import * as m${i} from '@aws-sdk/${p}';`);
  return `${lines.join('\n')}\nglobalThis.kept = [${packages.map((_, i) => `m${i}`).join(', ')}];\n`;
}
