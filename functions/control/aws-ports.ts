import { randomUUID } from 'node:crypto';
import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { UpstreamError } from '../../core/api/errors.js';
import type { EdgeInvalidation, IngestScaling } from './ports.js';

/** The control API's ports on AWS: the ingest ECS service and the CloudFront distribution. */

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
    private readonly client: ECSClient,
    private readonly ref: EcsServiceRef,
  ) {
    this.minTasks = ref.minTasks;
    this.maxTasks = ref.maxTasks;
  }

  async counts() {
    const { cluster, service } = this.ref;
    const result = await aws(() =>
      this.client.send(new DescribeServicesCommand({ cluster, services: [service] })),
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
    await aws(() => this.client.send(new UpdateServiceCommand({ cluster, service, desiredCount })));
  }
}

export class CloudFrontInvalidation implements EdgeInvalidation {
  constructor(
    private readonly client: CloudFrontClient,
    private readonly distributionId: string,
    /** The CallerReference of each invalidation; injectable so tests can assert the exact request. */
    private readonly newReference: () => string = randomUUID,
  ) {}

  async invalidate(paths: readonly string[]) {
    const result = await aws(() =>
      this.client.send(
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
 * Runs an SDK call; an AWS refusal becomes an UpstreamError whose message is the AWS error's name and message
 * (AccessDenied, ServiceNotFound...: what was refused, no secrets). Anything else is not ours to name.
 */
async function aws<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && '$metadata' in error) {
      throw new UpstreamError(`${error.name}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
