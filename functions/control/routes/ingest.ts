import { type AnyRoute, ApiError, route } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import { type ControlContext, notConfigured } from '../context.js';
import type { IngestScaling } from '../ports.js';
import * as S from '../schemas.js';

/**
 * Ingest capacity: the tasks' own reports and the ECS service's counts. Without `scaling` (the embedded
 * default) there is no service: it reads as null and scaling answers 409 not_configured.
 */
export function ingestRoutes(
  { registry, auditedRoute }: ControlContext,
  scaling: IngestScaling | undefined,
): AnyRoute[] {
  return [
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
        const service = scaling
          ? { ...(await scaling.counts()), minTasks: scaling.minTasks, maxTasks: scaling.maxTasks }
          : null;
        return jsonResponse(200, { tasks, totals, service });
      },
    }),
    auditedRoute({
      method: 'PUT',
      path: '/api/control/ingest/scale',
      operationId: 'scaleIngest',
      summary: 'Set the ingest service’s task count, within the configured bounds',
      body: S.ScaleBody,
      response: { status: 200, description: 'Desired count set', schema: S.ScaleResponse },
      errors: [409],
      target: ({ body }) => `desiredCount=${body.desiredCount}`,
      handle: async ({ body }) => {
        if (!scaling) throw notConfigured('no ECS ingest service is configured here', 'desiredCount');
        const { minTasks, maxTasks } = scaling;
        if (body.desiredCount < minTasks || body.desiredCount > maxTasks) {
          throw new ApiError(
            400,
            'invalid_request',
            `desiredCount: must be between ${minTasks} and ${maxTasks}`,
            'desiredCount',
          );
        }
        await scaling.setDesiredCount(body.desiredCount);
        return jsonResponse(200, { desiredCount: body.desiredCount, minTasks, maxTasks });
      },
    }),
  ];
}
