import { type AnyRoute, route } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import type { Visibility } from '../../../core/streams/schema.js';
import type { ControlContext } from '../context.js';
import * as S from '../schemas.js';

/**
 * The stream registry: list, create, read, change and delete streams. A stream created without a visibility
 * gets the stage's (`defaultVisibility`, decision D36), stored in the record.
 */
export function streamRoutes(context: ControlContext, defaultVisibility: Visibility = 'public'): AnyRoute[] {
  const { registry, view, streamResponse, withCredentials, auditedRoute } = context;
  return [
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
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams',
      operationId: 'createStream',
      summary: 'Create a stream; returns its SRT URL or RTP destination, and its secrets, once',
      body: S.CreateStreamBody,
      response: {
        status: 201,
        description: 'Created (200 when replayed with the same clientToken)',
        schema: S.StreamWithCredentials,
      },
      errors: [409],
      target: ({ body }) => body.id ?? body.name,
      handle: async ({ body }) => {
        const { record, created, credentials } = await registry.create({
          id: body.id,
          name: body.name,
          ladder: body.ladder,
          latency: body.latency,
          latencyProfile: body.latencyProfile,
          encrypted: body.encrypted,
          keyLength: body.keyLength,
          visibility: body.visibility ?? defaultVisibility,
          record: body.record,
          protocol: body.protocol,
          rtp: body.rtp,
          clientToken: body.clientToken,
        });
        // A replay (200) carries no credentials: they are shown once (decision D38).
        return jsonResponse(created ? 201 : 200, await withCredentials(record, credentials), {
          location: `/api/control/streams/${record.id}`,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/control/streams/{streamId}',
      operationId: 'getStream',
      summary: 'A stream with its live status, figures and viewers',
      params: S.StreamPathParams,
      response: { status: 200, description: 'The stream', schema: S.StreamResponse },
      errors: [404],
      handle: async ({ params }) => streamResponse(await registry.require(params.streamId)),
    }),
    auditedRoute({
      method: 'PATCH',
      path: '/api/control/streams/{streamId}',
      operationId: 'updateStream',
      summary: 'Change a stream’s name, ladder, SRT latency, delivery latency profile or visibility',
      params: S.StreamPathParams,
      body: S.UpdateStreamBody,
      response: { status: 200, description: 'The updated stream', schema: S.StreamResponse },
      errors: [404, 409],
      target: streamTarget,
      handle: async ({ params, body }) => streamResponse(await registry.update(params.streamId, body)),
    }),
    auditedRoute({
      method: 'DELETE',
      path: '/api/control/streams/{streamId}',
      operationId: 'deleteStream',
      summary: 'Delete a stream: kicks its publisher and removes its keys (media expires by lifecycle)',
      params: S.StreamPathParams,
      response: { status: 204, description: 'Deleted' },
      errors: [404],
      target: streamTarget,
      handle: async ({ params }) => {
        await registry.delete(params.streamId);
        return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      },
    }),
  ];
}

/** The audit target of the routes under `/api/control/streams/{streamId}`. */
export function streamTarget({ params }: { readonly params: Readonly<Record<string, string>> }): string {
  return params.streamId as string;
}
