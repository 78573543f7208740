import type { AnyRoute } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import type { ControlContext } from '../context.js';
import * as S from '../schemas.js';
import { streamTarget } from './streams.js';

/**
 * A stream's output, with its encoder connected (decision D32): pause (viewers get the slate), resume, and restart
 * of its transcode. Each reaches the ingest task publishing it on the command channel; pause also lives in the
 * stream record, so whichever task publishes the stream next keeps it paused.
 */
export function streamControlRoutes({ registry, streamResponse, auditedRoute }: ControlContext): AnyRoute[] {
  return [
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/pause',
      operationId: 'pauseStream',
      summary:
        'Pause: viewers get a slate (players keep playing), the encoder stays connected; kept until resumed',
      params: S.StreamPathParams,
      response: { status: 200, description: 'The paused stream', schema: S.StreamResponse },
      errors: [404, 409],
      target: streamTarget,
      handle: async ({ params }) => streamResponse(await registry.setPaused(params.streamId, true)),
    }),
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/resume',
      operationId: 'resumeStream',
      summary: 'Resume: viewers get the encoder’s input again from its next keyframe, after a discontinuity',
      params: S.StreamPathParams,
      response: { status: 200, description: 'The resumed stream', schema: S.StreamResponse },
      errors: [404, 409],
      target: streamTarget,
      handle: async ({ params }) => streamResponse(await registry.setPaused(params.streamId, false)),
    }),
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/restart',
      operationId: 'restartStream',
      summary: 'Restart the stream’s transcode; the encoder stays connected (a discontinuity for viewers)',
      params: S.StreamPathParams,
      response: { status: 202, description: 'Ingest tasks notified', schema: S.RestartResponse },
      errors: [404, 409],
      target: streamTarget,
      handle: async ({ params }) => {
        const tasksNotified = await registry.restart(params.streamId);
        return jsonResponse(202, { streamId: params.streamId, tasksNotified });
      },
    }),
  ];
}
