import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IVpc, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { CfnReplicationGroup, CfnSubnetGroup } from 'aws-cdk-lib/aws-elasticache';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RedisEnv, RedisOperationsEnv, RedisTokenEnv } from '../../../core/contracts/env.js';
import { type BindTarget, bindEnvironment, bindSecret } from '../binding.js';

/** Not the default 6379: a scan for open Redis ports finds nothing, and cdk-nag's EC23 agrees. */
export const REDIS_PORT = 6380;

export interface LiveStateProps {
  readonly vpc: IVpc;
  /** ElastiCache node type, e.g. cache.r7g.large. */
  readonly nodeType: string;
  /** Replicas besides the primary; at least 1 turns on Multi-AZ and automatic failover. */
  readonly replicas: number;
  /** Keep the replication group's final snapshot and the AUTH secret when the stack is deleted. */
  readonly retain: boolean;
}

/**
 * The live state: an ElastiCache Redis replication group (cluster mode off) holding the live edge of every playlist,
 * the stream registry and ingest leases. TLS in transit, encrypted at rest, AUTH token from Secrets Manager, private
 * subnets, and a security group that admits only what is bound to it.
 */
export class LiveState extends Construct {
  readonly authSecret: ISecret;
  readonly replicationGroup: CfnReplicationGroup;
  /** Member node ids (`<group>-001`, ...), the CacheClusterId dimension of ElastiCache metrics. */
  readonly nodeIds: readonly string[];
  private readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: LiveStateProps) {
    super(scope, id);
    const multiAz = props.replicas >= 1;
    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Mirror live state: only bound ingest tasks and functions',
      allowAllOutbound: false,
    });
    this.securityGroup = securityGroup;

    const secret = new Secret(this, 'AuthToken', {
      description: 'Mirror live state Redis AUTH token',
      // AUTH tokens are 16-128 printable characters without / " @; letters and digits are always safe.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating a Redis AUTH token needs the ElastiCache ROTATE/SET token strategy coordinated with every client; done as an operational procedure (docs/deploy.md), not automatic rotation.',
    });
    this.authSecret = secret;

    const subnets = new CfnSubnetGroup(this, 'Subnets', {
      description: 'Mirror live state private subnets',
      subnetIds: props.vpc.selectSubnets({ subnetType: SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    this.replicationGroup = new CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Mirror live state',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      numCacheClusters: props.replicas + 1,
      automaticFailoverEnabled: multiAz,
      multiAzEnabled: multiAz,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      authToken: secret.secretValue.unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 1,
    });
    if (!multiAz) {
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason:
          'This stage runs a single node to save cost (redis.replicas = 0); prod requires at least one replica.',
      });
    }
    this.replicationGroup.applyRemovalPolicy(props.retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY);
    this.nodeIds = Array.from(
      { length: props.replicas + 1 },
      (_, i) => `${this.replicationGroup.ref}-${String(i + 1).padStart(3, '0')}`,
    );
  }

  /** `rediss://host:port` of the primary endpoint. */
  get url(): string {
    return `rediss://${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`;
  }

  /** `arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>`: what the operate grant is scoped to. */
  get replicationGroupArn(): string {
    return Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: this.replicationGroup.ref,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * MIRROR_REDIS_URL and MIRROR_REDIS_AUTH_SECRET_ARN, read access to the AUTH secret, and a security-group rule
   * from the target to Redis. Containers also get the token injected by ECS as MIRROR_REDIS_AUTH_TOKEN.
   * `operate` (the control function only): the group's id, and DescribeReplicationGroups and TestFailover on this
   * group alone, for the operators' view of the live state and the failover drill.
   */
  bindTo(target: BindTarget, options: { readonly operate?: boolean } = {}): void {
    bindEnvironment(target, RedisEnv, {
      MIRROR_REDIS_URL: this.url,
      MIRROR_REDIS_AUTH_SECRET_ARN: this.authSecret.secretArn,
    });
    if (options.operate) {
      bindEnvironment(target, RedisOperationsEnv, {
        MIRROR_REDIS_REPLICATION_GROUP: this.replicationGroup.ref,
      });
      target.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['elasticache:DescribeReplicationGroups', 'elasticache:TestFailover'],
          resources: [this.replicationGroupArn],
        }),
      );
    }
    this.authSecret.grantRead(target);
    bindSecret(target, RedisTokenEnv, 'MIRROR_REDIS_AUTH_TOKEN', this.authSecret);
    // Ingress on the Redis side only (bound targets already allow all outbound). `remoteRule` puts the rule in the
    // target's stack, so this stateful stack never depends on the platform stack.
    for (const peer of target.connections.securityGroups) {
      this.securityGroup.addIngressRule(peer, Port.tcp(REDIS_PORT), 'Mirror live state (Redis TLS)', true);
    }
  }
}
