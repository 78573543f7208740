import { type AnyRoute, ApiError, route } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import * as z from '../../../core/zod.js';
import type { ControlContext } from '../context.js';
import type { LiveStateCluster, LiveStateGroup } from '../ports.js';

/** Cluster mode is off: the group has one node group, and ElastiCache names it `0001`. */
export const LIVE_STATE_NODE_GROUP = '0001';

// Memoised factories (decision D48), held uncalled by the route specs like functions/control/schemas.ts.
const nodeView = () =>
  z.object({
    cacheClusterId: z.string(),
    role: z.enum(['primary', 'replica', 'unknown']),
    availabilityZone: z.nullable(z.string()),
  });
const groupView = () =>
  z.object({
    replicationGroupId: z.string(),
    status: z
      .string()
      .check(z.meta({ description: 'ElastiCache status; anything but `available` means a change runs.' })),
    automaticFailover: z.string(),
    multiAz: z.string(),
    nodeGroups: z.array(
      z.object({
        nodeGroupId: z.string(),
        status: z.string(),
        primaryEndpoint: z.nullable(z.string()),
        nodes: z.array(nodeView()),
      }),
    ),
  });
export const RedisView = z.once(() =>
  z.object({
    replicationGroup: groupView(),
    failoverReady: z.boolean().check(
      z.meta({
        description: 'A failover drill may start now: available, automatic failover on, a replica.',
      }),
    ),
  }),
);
export const FailoverTestResponse = z.once(() =>
  z.object({
    replicationGroupId: z.string(),
    nodeGroupId: z.string(),
    status: z.string(),
  }),
);

/** Pure: why a failover drill cannot start on `group` now, or undefined when it can. */
export function failoverRefusal(group: LiveStateGroup): string | undefined {
  const nodeGroup = group.nodeGroups.find((g) => g.nodeGroupId === LIVE_STATE_NODE_GROUP);
  if (group.status !== 'available' || (nodeGroup !== undefined && nodeGroup.status !== 'available')) {
    return `a failover or change is already in progress (status ${group.status}); wait until it is available`;
  }
  if (group.automaticFailover !== 'enabled') {
    return `automatic failover is ${group.automaticFailover} on this group: a stage without replicas cannot fail over`;
  }
  if (!nodeGroup?.nodes.some((n) => n.role === 'replica')) {
    return `node group ${LIVE_STATE_NODE_GROUP} has no replica to promote`;
  }
  return undefined;
}

/** The embedded default has no ElastiCache: 404 naming what is missing, not a 5xx. */
function notHere(): ApiError {
  return new ApiError(
    404,
    'not_configured',
    'no ElastiCache replication group is configured here (the embedded default runs one redis-server)',
    'replicationGroupId',
  );
}

/**
 * The live state's ElastiCache replication group for operators: its state (GET) and the failover drill (POST),
 * which calls ElastiCache's TestFailover on the stage's node group and is audited. What the platform does during
 * the drill is in docs/operations.md.
 */
export function redisRoutes(
  { auditedRoute }: ControlContext,
  cluster: LiveStateCluster | undefined,
): AnyRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/control/redis',
      operationId: 'getRedis',
      summary: 'The live state’s ElastiCache replication group: status, nodes with roles and zones, failover',
      response: { status: 200, description: 'Replication group', schema: RedisView },
      errors: [404],
      handle: async () => {
        if (!cluster) throw notHere();
        const group = await cluster.describe();
        return jsonResponse(200, {
          replicationGroup: group,
          failoverReady: failoverRefusal(group) === undefined,
        });
      },
    }),
    auditedRoute({
      method: 'POST',
      path: '/api/control/redis/failover-test',
      operationId: 'testRedisFailover',
      summary:
        'Drill: ElastiCache TestFailover on the stage’s node group (the primary is replaced by a replica)',
      response: { status: 202, description: 'Failover started', schema: FailoverTestResponse },
      errors: [404, 409],
      target: () => `nodeGroup=${LIVE_STATE_NODE_GROUP}`,
      handle: async () => {
        if (!cluster) throw notHere();
        const refusal = failoverRefusal(await cluster.describe());
        if (refusal !== undefined) throw new ApiError(409, 'conflict', refusal, 'nodeGroupId');
        const after = await cluster.testFailover(LIVE_STATE_NODE_GROUP);
        return jsonResponse(202, {
          replicationGroupId: after.replicationGroupId,
          nodeGroupId: LIVE_STATE_NODE_GROUP,
          status: after.status,
        });
      },
    }),
  ];
}
