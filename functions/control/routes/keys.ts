import type { AnyRoute } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import type { ControlContext } from '../context.js';
import * as S from '../schemas.js';
import { streamTarget } from './streams.js';

/** A stream's publisher: new credentials, and dropping the encoder connected now. */
export function keyRoutes({ registry, withCredentials, auditedRoute }: ControlContext): AnyRoute[] {
  return [
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/rotate',
      operationId: 'rotateStreamKeys',
      summary: 'New publish key and/or passphrase (SRT) or SRTP key (RTP); returns them once',
      params: S.StreamPathParams,
      body: S.RotateBody,
      response: { status: 200, description: 'New credentials', schema: S.StreamWithCredentials },
      errors: [404, 409],
      target: streamTarget,
      handle: async ({ params, body }) => {
        const { record, credentials } = await registry.rotate(params.streamId, body);
        if (body.disconnect) await registry.disconnect(params.streamId, 'credentials rotated');
        return jsonResponse(200, await withCredentials(record, credentials));
      },
    }),
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/disconnect',
      operationId: 'disconnectPublisher',
      summary: 'Drop the stream’s current publisher (it may reconnect with valid credentials)',
      params: S.StreamPathParams,
      body: S.DisconnectBody,
      response: { status: 202, description: 'Ingest tasks notified', schema: S.DisconnectResponse },
      errors: [404],
      target: streamTarget,
      handle: async ({ params, body }) => {
        const tasksNotified = await registry.disconnect(params.streamId, body.reason);
        return jsonResponse(202, { streamId: params.streamId, tasksNotified });
      },
    }),
  ];
}
