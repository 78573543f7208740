import type { AnyRoute } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import { type ControlContext, notConfigured } from '../context.js';
import type { EdgeInvalidation } from '../ports.js';
import * as S from '../schemas.js';
import { streamTarget } from './streams.js';

/** The CDN cache in front of a stream's media; without an `edge` (the embedded default): 409. */
export function cacheRoutes(
  { auditedRoute }: ControlContext,
  edge: EdgeInvalidation | undefined,
): AnyRoute[] {
  return [
    auditedRoute({
      method: 'POST',
      path: '/api/control/streams/{streamId}/invalidate',
      operationId: 'invalidateStreamCache',
      summary: 'Invalidate the stream’s paths in CloudFront (after a key rotation or a reset)',
      params: S.StreamPathParams,
      response: { status: 202, description: 'Invalidation created', schema: S.InvalidationResponse },
      errors: [409],
      target: streamTarget,
      handle: async ({ params }) => {
        if (!edge) throw notConfigured('no CloudFront distribution is configured here', 'streamId');
        // A wildcard must end the path; one path counts as one invalidation whatever it matches.
        const paths = [`/${params.streamId}/*`];
        const { invalidationId, status } = await edge.invalidate(paths);
        return jsonResponse(202, { invalidationId, status, paths });
      },
    }),
  ];
}
