/**
 * What the control API needs from AWS, as ports: the routes call these and never an SDK. The AWS
 * implementations are in aws-ports.ts; where a port is absent (the embedded default) the route answers 409
 * not_configured. Implementations report a failed or unusable AWS answer as an UpstreamError (502).
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
