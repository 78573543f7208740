import type { Writable } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { OperatorEventHub } from '../../core/adapters/events.js';
import { createJsonLogger } from '../../core/adapters/json-logger.js';
import { jwksLoader } from '../../core/adapters/jwks.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import { writeEventStream } from '../../core/adapters/sse-writer.js';
import { JwksKeys } from '../../core/auth/keys.js';
import { operatorTokenVerifier } from '../../core/auth/operator-token.js';
import { EventsEnv, readEnv } from '../../core/contracts/env.js';
import type { HttpRequest } from '../../core/http.js';
import { jwtPrincipal } from '../control/aws-caller.js';
import { createEventsApp } from './app.js';

/**
 * The operator events function (decision D44): a Lambda function URL in RESPONSE_STREAM mode behind CloudFront
 * (origin access control: only the distribution may invoke it). One invocation is one page's connection: it
 * subscribes to the events channel, writes Server-Sent Events as they come and ends before the function's timeout;
 * the page reconnects.
 */
const env = readEnv(EventsEnv, process.env);
const logger = createJsonLogger('events');
const redis = await connectRedis(env.MIRROR_REDIS_URL, env.MIRROR_REDIS_AUTH_SECRET_ARN, logger, env);
// Subscribed once per instance; the instance reuses it for each invocation (one at a time).
const subscriber = redis.duplicate();
subscriber.on('error', () => undefined);
// `redis` itself samples viewer counts while this invocation's page is connected (read only: REDIS_ACCESS.events).
const hub = new OperatorEventHub(subscriber, { viewers: redis, log: logger });

const issuer = env.MIRROR_OPERATOR_ISSUER;
const verify = operatorTokenVerifier(
  { issuer },
  new JwksKeys(jwksLoader(`${issuer}/.well-known/jwks.json`), {}, Date.now),
  Date.now,
);

const app = createEventsApp({
  source: hub,
  authenticate: async (token) => {
    const check = await verify(token).catch(() => undefined);
    if (!check?.ok) return undefined;
    return jwtPrincipal(check.claims as Parameters<typeof jwtPrincipal>[0]) ?? 'cognito:unknown';
  },
  onClose: (summary) => logger.info('events connection closed', { ...summary }),
});

function requestOf(event: LambdaFunctionURLEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {}))
    if (value !== undefined) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: {},
    headers,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

export const handler = awslambda.streamifyResponse(
  async (event: LambdaFunctionURLEvent, responseStream: Writable) => {
    const abort = new AbortController();
    responseStream.once('close', () => abort.abort());
    const response = await app.handle(requestOf(event), abort.signal);
    const http = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: response.status,
      headers: response.headers,
    });
    if (!response.stream) {
      http.end(response.body);
      return;
    }
    await writeEventStream(http, response.stream, abort);
  },
);
