import { type AnyRoute, route } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import type { ControlContext } from '../context.js';
import * as S from '../schemas.js';

/** The audit trail the other routes write. */
export function auditRoutes({ audit }: ControlContext): AnyRoute[] {
  return [
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
