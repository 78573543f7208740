import { MAX_WRITE_ATTEMPTS } from '../../core/adapters/sessions/store.js';
import { buildOpenApi } from '../../core/api/openapi.js';
import type { AnyRoute } from '../../core/api/router.js';

export function sessionOpenApi(routes: readonly AnyRoute[]): Record<string, unknown> {
  return buildOpenApi(routes, {
    title: 'Mirror session API',
    version: '1.0.0',
    description:
      'Public API for viewers: sessions with multi-view layouts, heartbeats answered with each tile’s ' +
      'rendition. Rate limited per IP (100 requests/s, burst 200, then 429 with Retry-After). Session calls ' +
      'carry the session token as a bearer token. Private streams (decision D36) need a viewer entitlement, a JWT ' +
      'sent as `X-Mirror-Entitlement` on session creation, PATCH and `GET /api/sessions/streams/entitled`: without ' +
      'one they are absent from the lists and refused with 403 (field `tiles.<i>`); a bad one is 401 (field ' +
      '`x-mirror-entitlement`). Calls on one session may overlap (a heartbeat during an ' +
      'update, a retried request): each change is applied to the latest session and none is lost. ' +
      `A PATCH, heartbeat or DELETE that other calls on its session overtook ${MAX_WRITE_ATTEMPTS} times in a row is refused with ` +
      '409 `conflict` (field `sessionId`, the message names the session) and changed nothing; retry it.',
  });
}
