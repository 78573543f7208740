import { Validations } from 'aws-cdk-lib';
import type { Connections } from 'aws-cdk-lib/aws-ec2';
import { type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { z } from 'zod';
import { ENV_BINDING, type EnvKey, type KeysBoundAs } from '../../core/contracts/env.js';

/**
 * Something a resource can be bound to: a Lambda function or the ingest container. `bindTo(target)` on a construct
 * sets the environment variables and the permissions (IAM and network) together, so they cannot drift apart.
 * Constructs set variables through `bindEnvironment` and `bindSecret`, never `addEnvironment` directly.
 */
export interface BindTarget extends IGrantable {
  /** The role the target runs as; resources attach their managed policies to it. */
  readonly role: IRole;
  addEnvironment(name: string, value: string): void;
  /** Network identity of the target; set when the target runs in the VPC. */
  readonly connections: Connections;
  /** Present on containers: ECS injects the secret's value as an environment variable at start. */
  addSecret?(name: string, secret: ISecret): void;
}

/** A fragment of a process environment contract (core/contracts/env.ts). */
type Fragment<S extends z.ZodRawShape> = { readonly shape: S };

/**
 * Values for one fragment: every variable of it the CDK app binds on every stage, those bound only where a feature
 * is on optionally, and nothing else (a typo or a local-only variable does not compile).
 */
export type FragmentValues<S extends z.ZodRawShape> = {
  readonly [K in KeysBoundAs<S, 'aws'>]: string;
} & { readonly [K in KeysBoundAs<S, 'aws-when-enabled'>]?: string };

/** The run-time side of FragmentValues, for values that are not object literals. */
function assertBindable(fragment: Fragment<z.ZodRawShape>, name: string): void {
  if (!Object.hasOwn(fragment.shape, name)) {
    throw new Error(`${name} is not in the environment contract fragment`);
  }
  if (ENV_BINDING[name as EnvKey] === 'local') throw new Error(`${name} is never bound on AWS (local only)`);
}

/** A fragment's variables as a plain map, in the order given (for props that take an environment map). */
export function environmentOf<S extends z.ZodRawShape>(
  fragment: Fragment<S>,
  values: FragmentValues<S>,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(values as Record<string, string | undefined>)) {
    assertBindable(fragment, name);
    if (value !== undefined) environment[name] = value;
  }
  return environment;
}

/** Sets a fragment's variables on a target, in the order given. */
export function bindEnvironment<S extends z.ZodRawShape>(
  target: Pick<BindTarget, 'addEnvironment'>,
  fragment: Fragment<S>,
  values: FragmentValues<S>,
): void {
  for (const [name, value] of Object.entries(environmentOf(fragment, values))) {
    target.addEnvironment(name, value);
  }
}

/** Injects a secret as one of a fragment's variables, where the target supports it (containers). */
export function bindSecret<S extends z.ZodRawShape>(
  target: Pick<BindTarget, 'addSecret'>,
  fragment: Fragment<S>,
  name: KeysBoundAs<S, 'aws'>,
  secret: ISecret,
): void {
  assertBindable(fragment, name);
  target.addSecret?.(name, secret);
}

/**
 * Lets a function read the secrets of its cold start in one BatchGetSecretValue request (decision D48,
 * core/adapters/secret-batch.ts). The action takes no resource-level permission, so it is granted on `*`; it
 * discloses nothing by itself: Secrets Manager authorises each secret of a batch against GetSecretValue on that
 * secret's ARN, which each secret's own `grantRead` gives. Only for functions that read several secrets at once (a
 * role without it still works: the functions fall back to one GetSecretValue per secret).
 */
export function grantBatchSecretReads(target: Pick<BindTarget, 'role' | 'grantPrincipal'>): void {
  target.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['secretsmanager:BatchGetSecretValue'], resources: ['*'] }),
  );
  Validations.of(target.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'secretsmanager:BatchGetSecretValue takes no resource-level permission; each secret it returns still needs GetSecretValue, granted per ARN (D48).',
  });
}
