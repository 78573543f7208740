import { randomUUID } from 'node:crypto';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElastiCacheClient, ReplicationGroup } from '@aws-sdk/client-elasticache';
import { loadCloudFront, loadEcs, loadElastiCache } from '../../core/adapters/aws-sdk.js';
import { DomainError, UpstreamError } from '../../core/api/errors.js';
import type {
  EdgeInvalidation,
  IngestScaling,
  LiveStateCluster,
  LiveStateGroup,
  LiveStateNode,
} from './ports.js';

/**
 * The control API's ports on AWS: the ingest ECS service, the CloudFront distribution, the ElastiCache group.
 * Each SDK package is loaded when its port is first called (core/adapters/aws-sdk.ts, D26 amended): the three cost
 * the control function about 400 ms of CPU at initialisation, and only operator calls about ingest capacity, cache
 * invalidation and the replication group use them. A port takes a client (tests) or a function that builds one on
 * first use (the handler).
 */
export type ClientSource<C> = C | (() => Promise<C>);

function clientOf<C>(source: ClientSource<C>): Promise<C> {
  return typeof source === 'function' ? (source as () => Promise<C>)() : Promise.resolve(source);
}

export interface EcsServiceRef {
  readonly cluster: string;
  readonly service: string;
  readonly minTasks: number;
  readonly maxTasks: number;
}

export class EcsIngestScaling implements IngestScaling {
  readonly minTasks: number;
  readonly maxTasks: number;

  constructor(
    private readonly client: ClientSource<ECSClient>,
    private readonly ref: EcsServiceRef,
  ) {
    this.minTasks = ref.minTasks;
    this.maxTasks = ref.maxTasks;
  }

  async counts() {
    const { cluster, service } = this.ref;
    const [client, { DescribeServicesCommand }] = await Promise.all([clientOf(this.client), loadEcs()]);
    const result = await aws(() =>
      client.send(new DescribeServicesCommand({ cluster, services: [service] })),
    );
    const found = result.services?.[0];
    if (!found) throw new UpstreamError(`ECS service ${service} not found`);
    return {
      desiredCount: found.desiredCount ?? 0,
      runningCount: found.runningCount ?? 0,
      pendingCount: found.pendingCount ?? 0,
    };
  }

  async setDesiredCount(desiredCount: number): Promise<void> {
    const { cluster, service } = this.ref;
    const [client, { UpdateServiceCommand }] = await Promise.all([clientOf(this.client), loadEcs()]);
    await aws(() => client.send(new UpdateServiceCommand({ cluster, service, desiredCount })));
  }
}

export class CloudFrontInvalidation implements EdgeInvalidation {
  constructor(
    private readonly client: ClientSource<CloudFrontClient>,
    private readonly distributionId: string,
    /** The CallerReference of each invalidation; injectable so tests can assert the exact request. */
    private readonly newReference: () => string = randomUUID,
  ) {}

  async invalidate(paths: readonly string[]) {
    const [client, { CreateInvalidationCommand }] = await Promise.all([
      clientOf(this.client),
      loadCloudFront(),
    ]);
    const result = await aws(() =>
      client.send(
        new CreateInvalidationCommand({
          DistributionId: this.distributionId,
          InvalidationBatch: {
            CallerReference: this.newReference(),
            Paths: { Quantity: paths.length, Items: [...paths] },
          },
        }),
      ),
    );
    const invalidation = result.Invalidation;
    if (!invalidation?.Id) throw new UpstreamError('CloudFront returned no invalidation id');
    return { invalidationId: invalidation.Id, status: invalidation.Status ?? 'InProgress' };
  }
}

/**
 * ElastiCache's refusals that mean "not now": a failover or modification is under way, the group or a node is not
 * `available`, or the drill's limit (a few TestFailover calls a day per group) is reached. The API answers 409.
 */
const FAILOVER_BUSY = new Set([
  'TestFailoverNotAvailableFault',
  'InvalidReplicationGroupStateFault',
  'InvalidCacheClusterStateFault',
  'APICallRateForCustomerExceededFault',
]);

/** The stage's replication group (the live state); the control function may describe it and drill a failover. */
export class ElastiCacheLiveStateCluster implements LiveStateCluster {
  constructor(
    private readonly client: ClientSource<ElastiCacheClient>,
    private readonly replicationGroupId: string,
  ) {}

  async describe(): Promise<LiveStateGroup> {
    const [client, { DescribeReplicationGroupsCommand }] = await Promise.all([
      clientOf(this.client),
      loadElastiCache(),
    ]);
    const result = await aws(() =>
      client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: this.replicationGroupId })),
    );
    const group = result.ReplicationGroups?.[0];
    if (!group) throw new UpstreamError(`replication group ${this.replicationGroupId} not found`);
    return groupView(group, this.replicationGroupId);
  }

  async testFailover(nodeGroupId: string): Promise<LiveStateGroup> {
    const input = { ReplicationGroupId: this.replicationGroupId, NodeGroupId: nodeGroupId };
    try {
      const [client, { TestFailoverCommand }] = await Promise.all([clientOf(this.client), loadElastiCache()]);
      const result = await client.send(new TestFailoverCommand(input));
      return groupView(result.ReplicationGroup ?? {}, this.replicationGroupId);
    } catch (error) {
      if (error instanceof Error && FAILOVER_BUSY.has(error.name)) {
        throw new DomainError('conflict', `${error.name}: ${error.message}`, 'nodeGroupId', { cause: error });
      }
      throw asUpstream(error);
    }
  }
}

/** ElastiCache's description as the API shows it (no endpoints' ports, no auth details). */
function groupView(group: ReplicationGroup, id: string): LiveStateGroup {
  return {
    replicationGroupId: group.ReplicationGroupId ?? id,
    status: group.Status ?? 'unknown',
    automaticFailover: group.AutomaticFailover ?? 'unknown',
    multiAz: group.MultiAZ ?? 'unknown',
    nodeGroups: (group.NodeGroups ?? []).map((nodeGroup) => ({
      nodeGroupId: nodeGroup.NodeGroupId ?? 'unknown',
      status: nodeGroup.Status ?? 'unknown',
      primaryEndpoint: nodeGroup.PrimaryEndpoint?.Address ?? null,
      nodes: (nodeGroup.NodeGroupMembers ?? []).map(
        (member): LiveStateNode => ({
          cacheClusterId: member.CacheClusterId ?? 'unknown',
          role:
            member.CurrentRole === 'primary' || member.CurrentRole === 'replica'
              ? member.CurrentRole
              : 'unknown',
          availabilityZone: member.PreferredAvailabilityZone ?? null,
        }),
      ),
    })),
  };
}

/**
 * Runs an SDK call; an AWS refusal becomes an UpstreamError whose message is the AWS error's name and message
 * (AccessDenied, ServiceNotFound...: what was refused, no secrets). Anything else is not ours to name.
 */
async function aws<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asUpstream(error);
  }
}

function asUpstream(error: unknown): unknown {
  if (error instanceof Error && '$metadata' in error) {
    return new UpstreamError(`${error.name}: ${error.message}`, { cause: error });
  }
  return error;
}
