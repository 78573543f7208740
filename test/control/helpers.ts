import { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from 'aws-lambda';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { bearerAuthenticator, type ControlDeps, createControlApp } from '../../functions/control/app.js';
import type {
  EdgeInvalidation,
  IngestScaling,
  LiveStateCluster,
  LiveStateGroup,
} from '../../functions/control/ports.js';
import type { RedisServer } from '../support/redis.js';
import { useRedisServer } from '../support/redis-hooks.js';

export const TOKEN = 'test-operator-token-0123456789';

/** A logger whose JSON lines are kept for assertions (secrets must never appear in them). */
export function capturingLogger(lines: string[]): Logger {
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  // Powertools writes through its own console; route it into the array.
  const sink = (line: unknown) => lines.push(String(line));
  Object.assign(logger as unknown as { console: Console }, {
    console: { log: sink, info: sink, warn: sink, error: sink, debug: sink, trace: sink },
  });
  return logger;
}

/** The control app on `redis`, answering the test operator token; `deps` adds or replaces dependencies. */
export function controlApp(redis: Redis, deps: Partial<ControlDeps> = {}) {
  return createControlApp({
    redis,
    logger: capturingLogger([]),
    srt: { host: 'ingest.example.net', port: 9000 },
    authenticate: bearerAuthenticator(TOKEN),
    ...deps,
  });
}

export function request(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  query: Record<string, string> = {},
): HttpRequest {
  return {
    method,
    path,
    query,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    sourceIp: '127.0.0.1',
  };
}

export async function call(
  app: HttpApp,
  req: HttpRequest,
  // biome-ignore lint/suspicious/noExplicitAny: response JSON, asserted field by field
): Promise<{ status: number; json: any; response: HttpResponse }> {
  const response = await app.handle(req);
  const text =
    typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8');
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text), response };
}

/** An API Gateway HTTP API (v2) event as the Lambda handlers receive it; `authorizer`: its context. */
export function apiGatewayEvent(
  method: string,
  path: string,
  options: { body?: unknown; authorizer?: Record<string, unknown>; headers?: Record<string, string> } = {},
) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    isBase64Encoded: false,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
  } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer & APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** The AWS ports answering at once, for tests of the routes rather than of the SDK requests (aws.test.ts). */
export function fakeAwsPorts(): {
  scaling: IngestScaling;
  invalidation: EdgeInvalidation;
  liveStateCluster: LiveStateCluster;
} {
  let desiredCount = 1;
  // A drill makes the group `modifying` until the next describe, so a second drill in a row is a 409.
  let status = 'available';
  const group = (): LiveStateGroup => ({
    replicationGroupId: 'mirror-test',
    status,
    automaticFailover: 'enabled',
    multiAz: 'enabled',
    nodeGroups: [
      {
        nodeGroupId: '0001',
        status,
        primaryEndpoint: 'primary.example.net',
        nodes: [
          { cacheClusterId: 'mirror-test-001', role: 'primary', availabilityZone: 'eu-west-1a' },
          { cacheClusterId: 'mirror-test-002', role: 'replica', availabilityZone: 'eu-west-1b' },
        ],
      },
    ],
  });
  return {
    liveStateCluster: {
      describe: async () => {
        const now = group();
        status = 'available';
        return now;
      },
      testFailover: async () => {
        status = 'modifying';
        return group();
      },
    },
    scaling: {
      minTasks: 1,
      maxTasks: 4,
      counts: async () => ({ desiredCount, runningCount: desiredCount, pendingCount: 0 }),
      setDesiredCount: async (count) => {
        desiredCount = count;
      },
    },
    invalidation: { invalidate: async () => ({ invalidationId: 'I1', status: 'InProgress' }) },
  };
}

/**
 * A redis-server for the Lambda handlers under test, named in the MIRROR_* variables they read when first
 * imported, with the SRT host and `env`. Returns the server (once the block's tests run).
 */
export function useHandlerEnvironment(env: Record<string, string> = {}): () => RedisServer {
  let server: RedisServer | undefined;
  useRedisServer((started) => {
    server = started;
    Object.assign(process.env, { MIRROR_REDIS_URL: started.url, MIRROR_SRT_HOST: 'srt.example.net', ...env });
  });
  return () => server as RedisServer;
}
