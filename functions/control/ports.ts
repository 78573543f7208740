/**
 * What the control API needs from AWS, as ports: the routes call these and never an SDK. The AWS
 * implementations are in aws-ports.ts; where a port is absent (the embedded default) the route answers 409
 * not_configured (404 for the ElastiCache routes: there is no replication group to show). Implementations
 * report a failed or unusable AWS answer as an UpstreamError (502).
 */

/** The ingest ECS service's task counts. */
export interface IngestScaling {
  /** The bounds a desired count must stay within (the service's auto-scaling range). */
  readonly minTasks: number;
  readonly maxTasks: number;
  counts(): Promise<{
    readonly desiredCount: number;
    readonly runningCount: number;
    readonly pendingCount: number;
  }>;
  /** The caller has checked that `count` is within [minTasks, maxTasks]. */
  setDesiredCount(count: number): Promise<void>;
}

/** The CDN in front of the media. */
export interface EdgeInvalidation {
  invalidate(paths: readonly string[]): Promise<{ readonly invalidationId: string; readonly status: string }>;
}

/** One node of the live-state replication group, as ElastiCache reports it. */
export interface LiveStateNode {
  /** The member cluster (`<group>-001`), the CacheClusterId of ElastiCache's metrics. */
  readonly cacheClusterId: string;
  /** `primary` or `replica` (ElastiCache's CurrentRole); `unknown` while it reports none (a node being replaced). */
  readonly role: 'primary' | 'replica' | 'unknown';
  readonly availabilityZone: string | null;
}

/** The stage's ElastiCache replication group (cluster mode off: one node group, `0001`). */
export interface LiveStateGroup {
  readonly replicationGroupId: string;
  /** `available`, `modifying`, `snapshotting`, ...: anything but `available` means a change (or a failover) runs. */
  readonly status: string;
  /** `enabled`, `disabled`, `enabling`, `disabling`. */
  readonly automaticFailover: string;
  /** `enabled` or `disabled`. */
  readonly multiAz: string;
  readonly nodeGroups: readonly {
    readonly nodeGroupId: string;
    readonly status: string;
    /** The primary endpoint's address (what clients resolve; it moves to the new primary on a failover). */
    readonly primaryEndpoint: string | null;
    readonly nodes: readonly LiveStateNode[];
  }[];
}

/** The live state's ElastiCache replication group, for operators: its state, and the failover drill. */
export interface LiveStateCluster {
  describe(): Promise<LiveStateGroup>;
  /**
   * ElastiCache's TestFailover on node group `nodeGroupId`: the primary is replaced by a replica as in a real
   * failure. A failover or change already under way (or the drill's daily limit) is a DomainError conflict.
   */
  testFailover(nodeGroupId: string): Promise<LiveStateGroup>;
}
