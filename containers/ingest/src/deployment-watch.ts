import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { ProtectionLog } from './ecs-protection.js';
import { type OwnTaskDefinition, type StayReason, supersession, type Verdict } from './superseded.js';

/**
 * How often a task looks at its service's deployments: a superseded task notices within about this after the new
 * deployment runs all its tasks. Two DescribeServices calls a minute per task stay far below the ECS API's rate
 * limits.
 */
export const CHECK_INTERVAL_MS = 30_000;
/** Each wait is the interval ± this share: old tasks do not all ask (and act) in the same second. */
export const CHECK_JITTER = 0.2;
/**
 * After releasing its protection, how long a superseded task waits for ECS to stop it before it drains by itself.
 * ECS stops an old task only once the new ones pass the NLB health checks (minimum healthy 100 %), then deregisters
 * it and sends SIGTERM: the drain that follows sends reconnecting encoders to targets the NLB routes to. NLB target
 * registration can take minutes; a task ECS does not stop by then drains anyway, so a deploy cannot stall on it.
 */
export const SELF_DRAIN_AFTER_MS = 180_000;
/** The metadata endpoint and the ECS API answer in well under this; longer means failed (and retried). */
export const REQUEST_TIMEOUT_MS = 5000;

/** The fields of the task metadata endpoint's `/task` answer (ECS_CONTAINER_METADATA_URI_V4) the watch reads. */
export interface TaskMetadata {
  readonly TaskARN?: string;
  readonly Family?: string;
  readonly Revision?: string;
  /** The service that started the task (ECS agent 1.63.1 or later on EC2); absent for a task run on its own. */
  readonly ServiceName?: string;
}

/** The same logging shape as the protection's (the service's Logger port, or Powertools). */
export type WatchLog = ProtectionLog;

/** Scale-in protection that can be dropped while publishing, and taken back (TaskProtection). */
export interface ReleasableProtection {
  /** Off now, and publishing does not turn it on again until resume(). */
  release(): Promise<void>;
  /** Publishing protects the task again (at the next status tick). */
  resume(): void;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface DeploymentWatchOptions {
  /** The cluster the service runs in (MIRROR_ECS_CLUSTER). */
  readonly cluster: string;
  readonly ecs: Pick<ECSClient, 'send'>;
  /** This task's metadata (fetchTaskMetadata); read until it answers once: it does not change. */
  readonly readTask: () => Promise<TaskMetadata>;
  /** Null outside ECS' agent (tests). */
  readonly protection: ReleasableProtection | null;
  /** Starts the SIGTERM drain and exits when it is done (main.ts); called at most once. */
  readonly drain: (cause: string) => void;
  readonly log: WatchLog;
  /** Injected in tests. */
  readonly now?: () => number;
  readonly intervalMs?: number;
  readonly random?: () => number;
  readonly timers?: Timers;
}

interface OwnTask extends OwnTaskDefinition {
  readonly service: string;
}

/** The task was not started by a service: no deployment can supersede it. */
class NotInService extends Error {}

const unrefTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Every CHECK_INTERVAL_MS (jittered) asks ECS for the deployments of this task's own service. Once a new PRIMARY
 * deployment runs all its tasks (supersession), it releases this task's scale-in protection, so ECS stops the task
 * as it would any other (its SIGTERM drains: main.ts stops this watch then); if ECS has not done so
 * SELF_DRAIN_AFTER_MS later and the task is still superseded, it starts the same drain itself, exactly once. Should
 * the new deployment fail or shrink meanwhile, protection is taken back. Failures (metadata, ECS) are logged once
 * per failing spell and retried at the next check; nothing here throws into the process.
 */
export class DeploymentWatch {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly random: () => number;
  private readonly timers: Timers;
  private own: OwnTask | null = null;
  private failures = 0;
  private lastWhy: StayReason | null = null;
  /** When protection was released for the current supersession; null while protected. */
  private releasedAtMs: number | null = null;
  private timer: unknown = null;
  private stopped = false;

  constructor(private readonly options: DeploymentWatchOptions) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? CHECK_INTERVAL_MS;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? unrefTimers;
  }

  /** The first look comes after one (jittered) interval: a task that just started is rarely superseded. */
  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  /** One look; acts on the answer. Null when it could not tell (logged) or the watch is stopped. */
  async check(): Promise<Verdict | null> {
    if (this.stopped) return null;
    let verdict: Verdict;
    try {
      const own = await this.ownTask();
      verdict = supersession(own, await this.deployments(own));
    } catch (error) {
      if (error instanceof NotInService) {
        this.options.log.info('deployment watch off: the task metadata names no service', {
          task: error.message,
        });
        this.stop();
      } else {
        this.failed(error);
      }
      return null;
    }
    if (this.stopped) return null;
    if (this.failures > 0) this.options.log.info('deployment watch works again', { failures: this.failures });
    this.failures = 0;
    if (verdict.superseded) this.superseded(verdict);
    else this.stay(verdict);
    return verdict;
  }

  private schedule(): void {
    if (this.stopped) return;
    const spread = 1 + CHECK_JITTER * (2 * this.random() - 1);
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.check().finally(() => this.schedule());
    }, this.intervalMs * spread);
  }

  private async ownTask(): Promise<OwnTask> {
    if (this.own) return this.own;
    const task = await this.options.readTask();
    if (!task.Family || !task.Revision) throw new Error('task metadata without Family/Revision');
    if (!task.ServiceName) throw new NotInService(task.TaskARN ?? 'unknown');
    this.own = { family: task.Family, revision: task.Revision, service: task.ServiceName };
    this.options.log.info('watching the deployments of this task’s service', {
      cluster: this.options.cluster,
      service: this.own.service,
      taskDefinition: `${this.own.family}:${this.own.revision}`,
    });
    return this.own;
  }

  private async deployments(own: OwnTask) {
    const { cluster } = this.options;
    const answer = await this.options.ecs.send(
      new DescribeServicesCommand({ cluster, services: [own.service] }),
    );
    const service = answer.services?.find((s) => s.serviceName === own.service);
    if (!service) {
      const reason = answer.failures?.[0]?.reason ?? 'not in the answer';
      throw new Error(`service ${own.service} in cluster ${cluster}: ${reason}`);
    }
    return service.deployments ?? [];
  }

  private superseded(verdict: Extract<Verdict, { superseded: true }>): void {
    const { deploymentId, taskDefinition, runningCount } = verdict;
    const now = this.now();
    this.lastWhy = null;
    if (this.releasedAtMs === null) {
      this.releasedAtMs = now;
      this.options.log.info(
        'superseded by a deployment: protection released, waiting for ECS to stop the task',
        {
          deploymentId,
          taskDefinition,
          runningCount,
          selfDrainAfterS: SELF_DRAIN_AFTER_MS / 1000,
        },
      );
      void this.options.protection?.release();
      return;
    }
    if (now - this.releasedAtMs < SELF_DRAIN_AFTER_MS) return;
    this.stop();
    this.options.log.info('superseded and not stopped by ECS: draining', {
      deploymentId,
      taskDefinition,
      waitedS: Math.round((now - this.releasedAtMs) / 1000),
    });
    this.options.drain('superseded by a deployment');
  }

  /** Logged when the reason changes, so a rollout that waits is visible without a line every 30 s. */
  private stay(verdict: Extract<Verdict, { superseded: false }>): void {
    const { why, taskDefinition, runningCount, desiredCount } = verdict;
    if (this.releasedAtMs !== null) {
      // The new deployment failed, shrank or was rolled back after protection was released: publishing must be
      // protected again, or a scale-in could stop this task with its streams.
      this.releasedAtMs = null;
      this.options.protection?.resume();
      this.options.log.info('no longer superseded: protection taken back', { why, taskDefinition });
    }
    if (why === this.lastWhy) return;
    this.lastWhy = why;
    if (why === 'current') return;
    this.options.log.info('a new deployment is not ready for this task’s publishers: staying', {
      why,
      taskDefinition,
      runningCount,
      desiredCount,
    });
  }

  private failed(error: unknown): void {
    this.failures += 1;
    if (this.failures > 1) return;
    this.options.log.warn('deployment watch failed; retrying at the next check', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** GET $ECS_CONTAINER_METADATA_URI_V4/task. */
export async function fetchTaskMetadata(metadataUri: string, fetchImpl = fetch): Promise<TaskMetadata> {
  const res = await fetchImpl(`${metadataUri}/task`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`task metadata: HTTP ${res.status}`);
  return (await res.json()) as TaskMetadata;
}

export interface WatchEnvironment {
  /** Bound by the Ingest construct (core/contracts/env.ts IngestClusterEnv). */
  readonly MIRROR_ECS_CLUSTER?: string | undefined;
}

/**
 * The watch for a task on ECS (the agent's metadata endpoint and MIRROR_ECS_CLUSTER both present), started; null
 * elsewhere (`npm start`, tests), where no deployment replaces the process.
 */
export function startDeploymentWatch(
  env: WatchEnvironment,
  deps: Pick<DeploymentWatchOptions, 'protection' | 'drain' | 'log'> & Partial<DeploymentWatchOptions>,
  processEnv: NodeJS.ProcessEnv = process.env,
): DeploymentWatch | null {
  const metadataUri = processEnv.ECS_CONTAINER_METADATA_URI_V4;
  if (!metadataUri || !env.MIRROR_ECS_CLUSTER) return null;
  const watch = new DeploymentWatch({
    cluster: env.MIRROR_ECS_CLUSTER,
    readTask: () => fetchTaskMetadata(metadataUri),
    ...deps,
    // AWS_REGION is set on every awsvpc task; a hung connection fails instead of blocking the next checks.
    ecs:
      deps.ecs ??
      new ECSClient({ requestHandler: { connectionTimeout: 2000, requestTimeout: REQUEST_TIMEOUT_MS } }),
  });
  watch.start();
  return watch;
}
