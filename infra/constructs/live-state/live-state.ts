import { ArnFormat, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IVpc, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { CfnReplicationGroup, CfnSubnetGroup, CfnUser, CfnUserGroup } from 'aws-cdk-lib/aws-elasticache';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RedisEnv, RedisOperationsEnv } from '../../../core/contracts/env.js';
import { accessString, REDIS_COMPONENTS, type RedisComponent } from '../../../core/contracts/redis-acl.js';
import { type BindTarget, bindEnvironment } from '../binding.js';

/** Not the default 6379: a scan for open Redis ports finds nothing, and cdk-nag's EC23 agrees. */
export const REDIS_PORT = 6380;

export interface LiveStateProps {
  readonly vpc: IVpc;
  /** ElastiCache node type, e.g. cache.r7g.large. */
  readonly nodeType: string;
  /** Replicas besides the primary; at least 1 turns on Multi-AZ and automatic failover. */
  readonly replicas: number;
  /** Keep the replication group's final snapshot when the stack is deleted. */
  readonly retain: boolean;
}

/** ElastiCache user ids: 1-40 characters, a lowercase letter first, letters, digits and single hyphens. */
const USER_ID_MAX = 40;

/**
 * The live state: an ElastiCache Redis replication group (cluster mode off) holding the live edge of every playlist,
 * the stream registry and ingest leases. TLS in transit, encrypted at rest, private subnets, a security group that
 * admits only what is bound to it, and one IAM-authenticated user per component (decision D38): each process signs a
 * short-lived token with its role, which may connect as its own user only, and that user's ACL (the one table in
 * core/contracts/redis-acl.ts) admits only the keys, channels and commands the component needs.
 */
export class LiveState extends Construct {
  readonly replicationGroup: CfnReplicationGroup;
  /** The users by component, in the user group attached to the replication group. */
  readonly users: Readonly<Record<RedisComponent, CfnUser>>;
  readonly userGroup: CfnUserGroup;
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

    // ElastiCache names users account-wide: a prefix unique to this construct, lowercase as user ids must be.
    const prefix = Names.uniqueResourceName(this, {
      maxLength: USER_ID_MAX - 'manifest'.length - 1,
      separator: '-',
    })
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '')
      .replace(/-+/g, '-')
      .replace(/-$/, '');
    // IAM authentication: user id equals user name, no password; the role's elasticache:Connect on the user decides.
    this.users = Object.fromEntries(
      REDIS_COMPONENTS.map((component) => [
        component,
        new CfnUser(this, `User-${component}`, {
          engine: 'redis',
          userId: `${prefix}-${component}`,
          userName: `${prefix}-${component}`,
          accessString: accessString(component),
          authenticationMode: { Type: 'iam' },
        }),
      ]),
    ) as Record<RedisComponent, CfnUser>;
    // Every user group must hold a user named `default`: this one is off and may do nothing, so a client that
    // connects without authenticating gets no access at all.
    const defaultUser = new CfnUser(this, 'DefaultUser', {
      engine: 'redis',
      userId: `${prefix}-default`,
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    this.userGroup = new CfnUserGroup(this, 'Users', {
      engine: 'redis',
      userGroupId: prefix,
      userIds: [defaultUser.userId, ...REDIS_COMPONENTS.map((c) => this.users[c].userId)],
    });
    for (const user of [defaultUser, ...Object.values(this.users)])
      this.userGroup.addResourceDependency(user);

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
      // Role-based access instead of one AUTH token shared by every process (D38).
      userGroupIds: [this.userGroup.ref],
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 1,
    });
    this.replicationGroup.addResourceDependency(this.userGroup);
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC6',
      reason:
        'Role-based access control instead of one AUTH token: a user per component with its own ACL, authenticated by IAM (short-lived SigV4 tokens, decision D38).',
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

  /** `arn:<partition>:elasticache:<region>:<account>:user:<id>` of a component's user. */
  userArn(component: RedisComponent): string {
    return Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'user',
      resourceName: this.users[component].userId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * The target connects as `component`'s user (D38): MIRROR_REDIS_URL, MIRROR_REDIS_USER and MIRROR_REDIS_IAM_GROUP,
   * elasticache:Connect on this group and that user alone (so a function cannot sign in as another component), and a
   * security-group rule from the target to Redis.
   * `operate` (the control function only): the group's id, and DescribeReplicationGroups and TestFailover on this
   * group alone, for the operators' view of the live state and the failover drill.
   */
  bindTo(target: BindTarget, component: RedisComponent, options: { readonly operate?: boolean } = {}): void {
    bindEnvironment(target, RedisEnv, {
      MIRROR_REDIS_URL: this.url,
      MIRROR_REDIS_USER: this.users[component].userId,
      MIRROR_REDIS_IAM_GROUP: this.replicationGroup.ref,
    });
    target.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['elasticache:Connect'],
        resources: [this.replicationGroupArn, this.userArn(component)],
      }),
    );
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
    // Ingress on the Redis side only (bound targets already allow all outbound). `remoteRule` puts the rule in the
    // target's stack, so this stateful stack never depends on the platform stack.
    for (const peer of target.connections.securityGroups) {
      this.securityGroup.addIngressRule(peer, Port.tcp(REDIS_PORT), 'Mirror live state (Redis TLS)', true);
    }
  }
}
