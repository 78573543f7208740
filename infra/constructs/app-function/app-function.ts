import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { StageEnv } from '../../../core/contracts/env.js';
import { type BindTarget, bindEnvironment } from '../binding.js';
import { FUNCTION_BUNDLING, OPENAPI_FILE, openApiDocumentOf } from './bundling.js';

export interface AppFunctionProps {
  /** Path of the handler module; it must export `handler`. */
  readonly entry: string;
  /** Powertools service name, also the `service` metric dimension. */
  readonly serviceName: string;
  /** Stage name, exported as MIRROR_STAGE (the `Stage` metric dimension). */
  readonly stage: string;
  readonly vpc: IVpc;
  /** @default 512 */
  readonly memorySize?: number;
  /** Lambda reserved concurrency: a guaranteed share of the account and a ceiling. @default none (unreserved pool) */
  readonly reservedConcurrency?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * Mirror's house Lambda function: Node 22 on ARM64, bundled by the local esbuild (never Docker) as FUNCTION_BUNDLING
 * says (minified ESM with a source map beside it, read by the logger when it writes an error's stack, not by Node at
 * cold start: D47, amended), JSON logs into a log group with retention, Powertools environment, in the VPC's private subnets with
 * its own security group. Exposes itself as a BindTarget so other constructs can `bindTo` it; every MIRROR_*
 * variable comes through such a binding (core/contracts/env.ts), never as a free-form map.
 */
export class AppFunction extends Construct implements BindTarget {
  readonly function: NodejsFunction;
  readonly securityGroup: ISecurityGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.serviceName} function`,
      allowAllOutbound: true,
    });
    const logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrency,
      timeout: props.timeout ?? Duration.seconds(10),
      vpc: props.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Mirror',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: { ...FUNCTION_BUNDLING, commandHooks: shipOpenApiDocument(props.entry) },
    });
    bindEnvironment(this, StageEnv, { MIRROR_STAGE: props.stage });
    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWS-managed policy limited to writing the function logs.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'AWS-managed policy with the ENI permissions every VPC function needs (those actions take no resource ARN).',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'Mirror targets the Node 22 Lambda runtime (the runtime its code and tests are written for); raise it deliberately, not by a rule.',
      },
    );
  }

  get role() {
    return this.function.role!;
  }

  get grantPrincipal() {
    return this.function.grantPrincipal;
  }

  get connections() {
    return this.function.connections;
  }

  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}

/**
 * Copies the function's committed OpenAPI document beside its bundle, where the bundled app reads it (D26). The
 * paths are the project root's (local bundling runs there); a missing document fails the synthesis.
 */
function shipOpenApiDocument(entry: string): ICommandHooks | undefined {
  const document = openApiDocumentOf(entry);
  if (document === undefined) return undefined;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => [
      `cp "${join(inputDir, document)}" "${join(outputDir, OPENAPI_FILE)}"`,
    ],
  };
}
