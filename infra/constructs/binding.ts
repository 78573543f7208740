import type { Connections } from 'aws-cdk-lib/aws-ec2';
import type { IGrantable, IRole } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Something a resource can be bound to: a Lambda function or the ingest container. `bindTo(target)` on a construct
 * sets the environment variables and the permissions (IAM and network) together, so they cannot drift apart.
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
