/**
 * Pure: has a deployment of this task's ECS service replaced it? A publishing task holds scale-in protection, and
 * ECS stops a protected task neither for scale-in nor for a deployment, so with a 24/7 stream the old task would
 * never leave and the deployment would never complete. The task asks itself instead (deployment-watch.ts) and
 * drains once the answer is yes (decision D20).
 */

/** The part of an ECS service deployment (DescribeServices) the answer depends on. */
export interface DeploymentView {
  readonly id?: string;
  /** PRIMARY: the deployment ECS rolls the service towards; ACTIVE: an older one still running tasks. */
  readonly status?: string;
  /** Full task definition ARN: arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>. */
  readonly taskDefinition?: string;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  /** IN_PROGRESS, COMPLETED or FAILED (absent without the circuit breaker). */
  readonly rolloutState?: string;
}

/** This task's task definition, from the task metadata endpoint (`Family`, `Revision`). */
export interface OwnTaskDefinition {
  readonly family: string;
  readonly revision: string;
}

/** Why the task is not superseded: each one keeps it serving. */
export type StayReason =
  /** No PRIMARY deployment in the answer (the service is being deleted, or the answer is partial). */
  | 'no-primary'
  /** The PRIMARY deployment runs this task's task definition (no deployment, or a rollback to it). */
  | 'current'
  /** The PRIMARY's task definition ARN cannot be read: never drain on doubt. */
  | 'unreadable'
  /** The new deployment failed (circuit breaker): ECS rolls back to this task's definition. */
  | 'failed'
  /** The new deployment does not run all its tasks yet (or wants none): nobody could take the publishers. */
  | 'not-ready';

export type Verdict =
  | {
      readonly superseded: true;
      readonly deploymentId: string;
      /** `<family>:<revision>` of the PRIMARY deployment. */
      readonly taskDefinition: string;
      readonly runningCount: number;
    }
  | {
      readonly superseded: false;
      readonly why: StayReason;
      /** The PRIMARY deployment's `<family>:<revision>`, when there is one to name. */
      readonly taskDefinition?: string;
      readonly runningCount?: number;
      readonly desiredCount?: number;
    };

const TASK_DEFINITION_ARN = /^arn:[\w-]+:ecs:[\w-]*:\d*:task-definition\/([\w-]{1,255}):(\d+)$/;

/** `<family>:<revision>` of a task definition ARN; null when it is not one. */
export function taskDefinitionOf(arn: string | undefined): string | null {
  const m = arn === undefined ? null : TASK_DEFINITION_ARN.exec(arn);
  return m ? `${m[1]}:${m[2]}` : null;
}

/**
 * Superseded when the service's PRIMARY deployment runs another task definition, did not fail, and runs at least
 * the tasks it wants (at least one): the new tasks are up and report free slots, so this task's publishers can move
 * to them. While the new deployment is not ready, or failed, the old task keeps serving.
 */
export function supersession(own: OwnTaskDefinition, deployments: readonly DeploymentView[]): Verdict {
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!primary) return { superseded: false, why: 'no-primary' };
  const taskDefinition = taskDefinitionOf(primary.taskDefinition);
  if (taskDefinition === null) return { superseded: false, why: 'unreadable' };
  if (taskDefinition === `${own.family}:${own.revision}`) {
    return { superseded: false, why: 'current', taskDefinition };
  }
  const runningCount = primary.runningCount ?? 0;
  const desiredCount = primary.desiredCount ?? 0;
  if (primary.rolloutState === 'FAILED') {
    return { superseded: false, why: 'failed', taskDefinition, runningCount, desiredCount };
  }
  // A deployment that wants no task has nowhere to move publishers to; the drain would only cut them.
  if (desiredCount < 1 || runningCount < desiredCount) {
    return { superseded: false, why: 'not-ready', taskDefinition, runningCount, desiredCount };
  }
  return { superseded: true, deploymentId: primary.id ?? 'unknown', taskDefinition, runningCount };
}
