import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AuditLog } from '../../core/adapters/audit.js';
import { viewerCounts } from '../../core/adapters/sessions/viewers.js';
import {
  publicView,
  RegistryError,
  type SrtEndpoint,
  StreamRegistry,
  srtUrls,
} from '../../core/adapters/streams/registry.js';
import { type AnyRoute, ApiError, createRouter, respondError, route } from '../../core/api/router.js';
import { type HttpApp, type HttpRequest, type HttpResponse, jsonResponse } from '../../core/http.js';
import type { StreamRecord } from '../../core/streams/schema.js';
import type { IngestStatus } from '../../core/streams/status.js';
import { buildControlOpenApi } from './openapi.js';
import * as S from './schemas.js';

export interface ControlDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  /** The SRT listener encoders call (NLB name on AWS, the local ingest port in the embedded default). */
  readonly srt: SrtEndpoint;
  /**
   * Who is calling, or undefined to refuse with 401. On AWS, API Gateway's IAM authorization has already
   * run and the handler passes the caller's ARN; locally a bearer token is compared.
   */
  readonly authenticate: (request: HttpRequest) => string | undefined;
  /** The ingest ECS service; absent in the embedded default (scaling then answers 409 not_configured). */
  readonly ecs?: {
    readonly client: ECSClient;
    readonly cluster: string;
    readonly service: string;
    readonly minTasks: number;
    readonly maxTasks: number;
  };
  readonly cloudfront?: { readonly client: CloudFrontClient; readonly distributionId: string };
  readonly now?: () => Date;
  /** CloudFront CallerReference; injectable so tests can assert the exact request. */
  readonly newReference?: () => string;
}

/** Bearer-token authentication for the embedded default (constant-time comparison). */
export function bearerAuthenticator(token: string, principal = 'local-operator') {
  const expected = Buffer.from(`Bearer ${token}`);
  return (request: HttpRequest): string | undefined => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected) ? principal : undefined;
  };
}

export function controlRoutes(deps: ControlDeps): AnyRoute[] {
  const registry = new StreamRegistry(deps.redis, deps.now);
  const audit = new AuditLog(deps.redis, deps.logger);
  const now = deps.now ?? (() => new Date());
  const newReference = deps.newReference ?? randomUUID;
  const P = { streamId: S.StreamIdParam };

  const view = async (records: StreamRecord[]): Promise<z.infer<typeof S.StreamView>[]> => {
    const ids = records.map((r) => r.id);
    const [statuses, viewers, leases] = await Promise.all([
      registry.statuses(ids),
      viewerCounts(deps.redis, ids, now().getTime()),
      Promise.all(ids.map((id) => registry.leaseHolder(id))),
    ]);
    return records.map((record, i) => ({
      ...publicView(record),
      status: statusView(statuses[i], leases[i]),
      viewers: viewers[i] ?? 0,
    }));
  };
  const withCredentials = async (record: StreamRecord) => {
    const urls = srtUrls(record, deps.srt);
    const [stream] = await view([record]);
    return {
      stream,
      credentials: {
        publishKey: record.publishKey,
        passphrase: record.passphrase,
        keyLength: record.keyLength,
        srtUrl: urls.url,
        srtPlainKeyUrl: urls.plainKeyUrl,
      },
    };
  };
  /** Runs a state-changing operation and writes its outcome (success or refusal) to the audit log. */
  const audited = async (
    action: string,
    who: string,
    target: string,
    run: () => Promise<HttpResponse>,
  ): Promise<HttpResponse> => {
    let response: HttpResponse;
    try {
      response = await run();
    } catch (error) {
      response = errorToResponse(error);
    }
    await audit.record({ who, action, target, status: response.status, at: now().toISOString() });
    return response;
  };

  return [
    route({
      method: 'GET',
      path: '/api/control/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This API as an OpenAPI 3.1 document',
      public: true,
      response: { status: 200, description: 'OpenAPI document' },
      handle: async () => {
        throw new Error('replaced by createControlApp');
      },
    }),
    route({
      method: 'GET',
      path: '/api/control/streams',
      operationId: 'listStreams',
      summary: 'List streams in creation order, paginated',
      query: S.ListQuery,
      response: { status: 200, description: 'A page of streams', schema: S.StreamList },
      handle: async ({ query }) => {
        const page = await registry.list(query.limit, query.cursor);
        return jsonResponse(200, { streams: await view(page.streams), nextCursor: page.nextCursor });
      },
    }),
    route({
      method: 'POST',
      path: '/api/control/streams',
      operationId: 'createStream',
      summary: 'Create a stream; returns its SRT URL and secrets once',
      body: S.CreateStreamBody,
      response: {
        status: 201,
        description: 'Created (200 when replayed with the same clientToken)',
        schema: S.StreamWithCredentials,
      },
      errors: [409],
      handle: async ({ body, principal }) =>
        audited('createStream', principal, body.id ?? body.name, async () => {
          const { record, created } = await registry.create({
            id: body.id,
            name: body.name,
            ladder: body.ladder,
            latency: body.latency,
            encrypted: body.encrypted,
            keyLength: body.keyLength,
            clientToken: body.clientToken,
          });
          return jsonResponse(created ? 201 : 200, await withCredentials(record), {
            location: `/api/control/streams/${record.id}`,
          });
        }),
    }),
    route({
      method: 'GET',
      path: '/api/control/streams/{streamId}',
      operationId: 'getStream',
      summary: 'A stream with its live status, figures and viewers',
      params: P,
      response: { status: 200, description: 'The stream', schema: S.StreamResponse },
      errors: [404],
      handle: async ({ params }) => {
        const record = await registry.require(params.streamId as string);
        const [stream] = await view([record]);
        return jsonResponse(200, { stream });
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/control/streams/{streamId}',
      operationId: 'updateStream',
      summary: 'Change a stream’s name, ladder or latency profile',
      params: P,
      body: S.UpdateStreamBody,
      response: { status: 200, description: 'The updated stream', schema: S.StreamResponse },
      errors: [404, 409],
      handle: async ({ params, body, principal }) =>
        audited('updateStream', principal, params.streamId as string, async () => {
          const record = await registry.update(params.streamId as string, body);
          const [stream] = await view([record]);
          return jsonResponse(200, { stream });
        }),
    }),
    route({
      method: 'DELETE',
      path: '/api/control/streams/{streamId}',
      operationId: 'deleteStream',
      summary: 'Delete a stream: kicks its publisher and removes its keys (media expires by lifecycle)',
      params: P,
      response: { status: 204, description: 'Deleted' },
      errors: [404],
      handle: async ({ params, principal }) =>
        audited('deleteStream', principal, params.streamId as string, async () => {
          await registry.delete(params.streamId as string);
          return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
        }),
    }),
    route({
      method: 'POST',
      path: '/api/control/streams/{streamId}/rotate',
      operationId: 'rotateStreamKeys',
      summary: 'New publish key and/or passphrase; returns them once',
      params: P,
      body: S.RotateBody,
      response: { status: 200, description: 'New credentials', schema: S.StreamWithCredentials },
      errors: [404, 409],
      handle: async ({ params, body, principal }) =>
        audited('rotateStreamKeys', principal, params.streamId as string, async () => {
          const id = params.streamId as string;
          const record = await registry.rotate(id, body);
          if (body.disconnect) await registry.disconnect(id, 'credentials rotated');
          return jsonResponse(200, await withCredentials(record));
        }),
    }),
    route({
      method: 'POST',
      path: '/api/control/streams/{streamId}/disconnect',
      operationId: 'disconnectPublisher',
      summary: 'Drop the stream’s current publisher (it may reconnect with valid credentials)',
      params: P,
      body: S.DisconnectBody,
      response: { status: 202, description: 'Ingest tasks notified', schema: S.DisconnectResponse },
      errors: [404],
      handle: async ({ params, body, principal }) =>
        audited('disconnectPublisher', principal, params.streamId as string, async () => {
          const id = params.streamId as string;
          const tasksNotified = await registry.disconnect(id, body.reason);
          return jsonResponse(202, { streamId: id, tasksNotified });
        }),
    }),
    route({
      method: 'POST',
      path: '/api/control/streams/{streamId}/invalidate',
      operationId: 'invalidateStreamCache',
      summary: 'Invalidate the stream’s paths in CloudFront (after a key rotation or a reset)',
      params: P,
      response: { status: 202, description: 'Invalidation created', schema: S.InvalidationResponse },
      errors: [409],
      handle: async ({ params, principal }) =>
        audited('invalidateStreamCache', principal, params.streamId as string, async () => {
          if (!deps.cloudfront) {
            throw new ApiError(
              409,
              'not_configured',
              'no CloudFront distribution is configured here',
              'streamId',
            );
          }
          // A wildcard must end the path; one path counts as one invalidation whatever it matches.
          const paths = [`/${params.streamId}/*`];
          const result = await deps.cloudfront.client.send(
            new CreateInvalidationCommand({
              DistributionId: deps.cloudfront.distributionId,
              InvalidationBatch: {
                CallerReference: newReference(),
                Paths: { Quantity: paths.length, Items: paths },
              },
            }),
          );
          const invalidation = result.Invalidation;
          if (!invalidation?.Id) throw new UpstreamError('CloudFront returned no invalidation id');
          return jsonResponse(202, {
            invalidationId: invalidation.Id,
            status: invalidation.Status ?? 'InProgress',
            paths,
          });
        }),
    }),
    route({
      method: 'GET',
      path: '/api/control/ingest',
      operationId: 'getIngest',
      summary: 'Ingest tasks with capacity and load, and the ECS service counts',
      response: { status: 200, description: 'Ingest capacity', schema: S.IngestView },
      handle: async () => {
        const tasks = (await registry.tasks()).map((t) => ({
          taskId: t.taskId,
          capacity: t.capacity,
          streams: t.streams,
          cpuPercent: t.cpuPercent,
          gpu: t.gpu,
          updatedAt: t.updatedAt,
        }));
        const totals = {
          capacity: tasks.reduce((sum, t) => sum + (t.capacity ?? 0), 0),
          streams: tasks.reduce((sum, t) => sum + (t.streams ?? 0), 0),
        };
        let service: z.infer<typeof S.IngestView>['service'] = null;
        if (deps.ecs) {
          const result = await deps.ecs.client.send(
            new DescribeServicesCommand({ cluster: deps.ecs.cluster, services: [deps.ecs.service] }),
          );
          const found = result.services?.[0];
          if (!found) throw new UpstreamError(`ECS service ${deps.ecs.service} not found`);
          service = {
            desiredCount: found.desiredCount ?? 0,
            runningCount: found.runningCount ?? 0,
            pendingCount: found.pendingCount ?? 0,
            minTasks: deps.ecs.minTasks,
            maxTasks: deps.ecs.maxTasks,
          };
        }
        return jsonResponse(200, { tasks, totals, service });
      },
    }),
    route({
      method: 'PUT',
      path: '/api/control/ingest/scale',
      operationId: 'scaleIngest',
      summary: 'Set the ingest service’s task count, within the configured bounds',
      body: S.ScaleBody,
      response: { status: 200, description: 'Desired count set', schema: S.ScaleResponse },
      errors: [409],
      handle: async ({ body, principal }) =>
        audited('scaleIngest', principal, `desiredCount=${body.desiredCount}`, async () => {
          const ecs = deps.ecs;
          if (!ecs)
            throw new ApiError(
              409,
              'not_configured',
              'no ECS ingest service is configured here',
              'desiredCount',
            );
          if (body.desiredCount < ecs.minTasks || body.desiredCount > ecs.maxTasks) {
            throw new ApiError(
              400,
              'invalid_request',
              `desiredCount: must be between ${ecs.minTasks} and ${ecs.maxTasks}`,
              'desiredCount',
            );
          }
          await ecs.client.send(
            new UpdateServiceCommand({
              cluster: ecs.cluster,
              service: ecs.service,
              desiredCount: body.desiredCount,
            }),
          );
          return jsonResponse(200, {
            desiredCount: body.desiredCount,
            minTasks: ecs.minTasks,
            maxTasks: ecs.maxTasks,
          });
        }),
    }),
    route({
      method: 'GET',
      path: '/api/control/audit',
      operationId: 'listAudit',
      summary: 'Recent state-changing calls, newest first',
      query: S.AuditQuery,
      response: { status: 200, description: 'Audit entries', schema: S.AuditList },
      handle: async ({ query }) => jsonResponse(200, { entries: await audit.recent(query.limit) }),
    }),
  ];
}

/** An AWS call failed or answered something unusable: 502, the one 5xx the control API gives on purpose. */
export class UpstreamError extends Error {}

function errorToResponse(error: unknown): HttpResponse {
  if (error instanceof ApiError) return respondError(error);
  if (error instanceof RegistryError) {
    const status = error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 400;
    return respondError(new ApiError(status, error.code, error.message, error.field));
  }
  if (error instanceof UpstreamError) {
    return respondError(new ApiError(502, 'upstream_error', error.message));
  }
  if (isAwsError(error)) {
    // The AWS error name and message say what was refused (AccessDenied, ServiceNotFound...); no secrets.
    return respondError(new ApiError(502, 'upstream_error', `${error.name}: ${error.message}`));
  }
  throw error;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function isAwsError(error: unknown): error is Error & { $metadata: unknown } {
  return error instanceof Error && '$metadata' in error;
}

function statusView(
  status: IngestStatus | undefined,
  lease: string | undefined,
): z.infer<typeof S.StreamStatusSchema> {
  const state = status?.state ?? (lease ? 'live' : 'idle');
  return {
    state,
    taskId: status?.taskId ?? lease,
    input: status?.input && {
      codec: status.input.codec,
      width: status.input.width,
      height: status.input.height,
      fps: status.input.fps,
      bitrateKbps: status.input.bitrateKbps,
    },
    srt: status?.srt && { rttMs: status.srt.rttMs, lossPercent: status.srt.lossPercent },
    renditions: status?.renditions ?? [],
    latencyMs: status?.latencyMs,
    error: status?.error,
    updatedAt: status?.updatedAt,
  };
}

export function createControlApp(deps: ControlDeps): HttpApp & { readonly routes: readonly AnyRoute[] } {
  const routes = controlRoutes(deps);
  let document: string | undefined;
  const openapiRoute = routes[0] as AnyRoute;
  const withDoc: AnyRoute[] = [
    {
      ...openapiRoute,
      handle: async () => {
        document ??= JSON.stringify(buildControlOpenApi(routes));
        return {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' },
          body: document,
        };
      },
    },
    ...routes.slice(1),
  ];
  const router = createRouter(withDoc);
  return {
    routes: withDoc,
    async handle(request) {
      try {
        return await router.dispatch(request, async (r) => {
          if (r.public) return 'anonymous';
          const principal = deps.authenticate(request);
          if (principal === undefined) {
            throw new ApiError(
              401,
              'unauthorized',
              'a valid operator credential is required',
              'authorization',
              {
                'www-authenticate': 'Bearer',
              },
            );
          }
          return principal;
        });
      } catch (error) {
        try {
          const response = errorToResponse(error);
          if (response.status >= 500) deps.logger.warn('upstream call failed', { errorName: nameOf(error) });
          return response;
        } catch {
          // Logged by name only: an unexpected error's text may quote input.
          deps.logger.error('control call failed', {
            path: request.path.slice(0, 200),
            errorName: nameOf(error),
          });
          return respondError(new ApiError(500, 'internal_error', 'unexpected error; see the function log'));
        }
      }
    },
  };
}
