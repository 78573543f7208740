import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AdjustmentType } from 'aws-cdk-lib/aws-applicationautoscaling';
import { AutoScalingGroup, BlockDeviceVolume, EbsDeviceVolumeType } from 'aws-cdk-lib/aws-autoscaling';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Connections, InstanceType, type IVpc, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  AmiHardwareType,
  AsgCapacityProvider,
  Cluster,
  type ContainerDefinition,
  type ContainerImage,
  ContainerInsights,
  Ec2Service,
  Ec2TaskDefinition,
  EcsOptimizedImage,
  Protocol as EcsProtocol,
  Secret as EcsSecret,
  LogDrivers,
  NetworkMode,
} from 'aws-cdk-lib/aws-ecs';
import type { NetworkLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ManagedPolicy, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  IngestClusterEnv,
  IngestScalingEnv,
  IngestTaskEnv,
  PackagingEnv,
  RecordingEnv,
  RtpEndpointEnv,
  RtpIngestEnv,
  SrtEndpointEnv,
  StageEnv,
} from '../../../core/contracts/env.js';
import {
  METRIC_DIMENSION_SERVICE,
  METRIC_DIMENSION_STAGE,
  METRIC_NAMESPACE,
  MetricNames,
  MetricServices,
} from '../../../core/metric-names.js';
import type { MediaConfig } from '../../config.js';
import { ECS_RESERVED_MEMORY_MIB, ingestMemoryFor } from '../../instance-memory.js';
import { type BindTarget, bindEnvironment, environmentOf } from '../binding.js';
import { addUdpLoadBalancer } from './udp-load-balancer.js';

/** Path the task answers on its health port: 200 while it accepts new sessions, 503 once it drains. */
export const HEALTH_CHECK_PATH = '/health';
/**
 * Seconds between deregistering a stopping task from the NLB and its SIGTERM: enough for every NLB node to stop
 * sending it new flows (an encoder reconnecting meanwhile is refused and retries), no longer.
 */
export const DEREGISTRATION_DELAY_S = 10;
/** Step scaling thresholds on the share of NVENC session slots in use across the service (percent). */
const SCALE_OUT_AT = 70;
const SCALE_OUT_FAST_AT = 90;
const SCALE_IN_BELOW = 30;

/** The stage's packaging settings the ingest service cuts parts and segments with. */
export type IngestPackaging = Pick<
  MediaConfig,
  'ladder' | 'windowSegments' | 'recordingRetentionDays' | 'dvrWindowS'
>;

export interface IngestProps {
  readonly vpc: IVpc;
  readonly stage: string;
  /** The ingest service image (built from containers/ingest/Dockerfile by the stack). */
  readonly image: ContainerImage;
  /** GPU instance type of the container instances (one task per GPU). */
  readonly instanceType: string;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly nvencSessionsPerGpu: number;
  readonly srtPort: number;
  /** The RTP ingest port (decision D46): a second UDP listener on the same NLB. */
  readonly rtpPort: number;
  readonly healthPort: number;
  /** CIDRs allowed to reach the SRT and RTP ports. */
  readonly encoderCidrs: readonly string[];
  /**
   * Seconds a task has after SIGTERM (container stop timeout, MIRROR_DRAIN_S, and how long the NLB keeps the flows
   * of a task whose health check says draining): it moves its publishers once another task has room for them.
   */
  readonly drainSeconds: number;
  /** Ladder preset and live window (MIRROR_LADDER, MIRROR_WINDOW_SEGMENTS); part targets come per stream (D28). */
  readonly packaging: IngestPackaging;
}

const PRIVATE_SUBNETS = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };

/** The ingest container as a BindTarget: its task role, its security group, environment and ECS secrets. */
function containerBindTarget(
  taskDefinition: Ec2TaskDefinition,
  container: ContainerDefinition,
  securityGroup: SecurityGroup,
): BindTarget {
  return {
    role: taskDefinition.taskRole,
    grantPrincipal: taskDefinition.taskRole,
    connections: new Connections({ securityGroups: [securityGroup] }),
    addEnvironment: (name, value) => container.addEnvironment(name, value),
    addSecret: (name, secret) => container.addSecret(name, EcsSecret.fromSecretsManager(secret)),
  };
}

/**
 * SRT ingest: an ECS cluster on GPU container instances (ECS GPU-optimized AMI, capacity provider with managed
 * scaling), one GPU task per instance behind an internet-facing NLB with a UDP listener, step-scaled on the share of
 * NVENC session slots in use.
 */
export class Ingest extends Construct {
  readonly cluster: Cluster;
  readonly service: Ec2Service;
  readonly loadBalancer: NetworkLoadBalancer;
  readonly container: ContainerDefinition;
  /** Bind other resources (storage, live state) to the ingest container with this. */
  readonly containerTarget: BindTarget;
  /** `srt://<nlb-dns>:<port>` */
  readonly srtEndpoint: string;
  private readonly props: IngestProps;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.props = props;
    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
    });
    const capacityProvider = this.addGpuCapacity();
    const taskDefinition = new Ec2TaskDefinition(this, 'Task', { networkMode: NetworkMode.AWS_VPC });
    this.container = this.addIngestContainer(taskDefinition);
    const taskSecurityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'Mirror ingest tasks',
      allowAllOutbound: true,
    });
    this.containerTarget = containerBindTarget(taskDefinition, this.container, taskSecurityGroup);
    this.service = new Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: props.minTasks,
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
      securityGroups: [taskSecurityGroup],
      vpcSubnets: PRIVATE_SUBNETS,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
    });
    this.allowDeploymentWatch(taskDefinition);
    this.loadBalancer = this.addSrtLoadBalancer(taskSecurityGroup);
    this.addScaling();
    this.srtEndpoint = `srt://${this.loadBalancer.loadBalancerDnsName}:${props.srtPort}`;
  }

  /** The GPU container instances (Auto Scaling group) as the cluster's capacity provider. */
  private addGpuCapacity(): AsgCapacityProvider {
    const instances = new AutoScalingGroup(this, 'GpuInstances', {
      vpc: this.props.vpc,
      vpcSubnets: PRIVATE_SUBNETS,
      instanceType: new InstanceType(this.props.instanceType),
      machineImage: EcsOptimizedImage.amazonLinux2023(AmiHardwareType.GPU),
      minCapacity: 0,
      maxCapacity: this.props.maxTasks,
      requireImdsv2: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: BlockDeviceVolume.ebs(60, { encrypted: true, volumeType: EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    // Memory the agent keeps from tasks for itself, Docker, the NVIDIA runtime and SSM: the task's memory ceiling
    // (instance-memory.ts) assumes exactly this.
    instances.addUserData(`echo ECS_RESERVED_MEMORY=${ECS_RESERVED_MEMORY_MIB} >> /etc/ecs/ecs.config`);
    Validations.of(instances).acknowledge(
      {
        id: 'AwsSolutions-AS3',
        reason:
          'Instances come and go under the ECS capacity provider; task-level alarms cover what operators act on.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'AWS-managed SSM core policy for Session Manager access to container instances instead of SSH.',
      },
    );
    instances.role.addManagedPolicy(ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));

    const capacityProvider = new AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup: instances,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    });
    this.cluster.addAsgCapacityProvider(capacityProvider);
    Validations.of(instances).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
        reason:
          'The ECS container-instance policy CDK generates for the agent (ecs:Submit*State* on this cluster).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'The ECS agent policy CDK generates: ecr:GetAuthorizationToken, ecs:DiscoverPollEndpoint and log actions take no resource ARN.',
      },
    );
    return capacityProvider;
  }

  /** The one GPU container of the task, its environment (core/contracts/env.ts IngestEnv) and the task role. */
  private addIngestContainer(taskDefinition: Ec2TaskDefinition): ContainerDefinition {
    const { props } = this;
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    // Hard limit: every stream of the task at its buffer bounds plus ffmpeg and the process; the input buffer it
    // assumes is bound as MIRROR_MAX_BUFFER_MB (core/contracts/ingest-memory.ts, docs/infrastructure.md).
    const memory = ingestMemoryFor(props.instanceType, props.nvencSessionsPerGpu);
    const container = taskDefinition.addContainer('ingest', {
      image: props.image,
      gpuCount: 1,
      memoryLimitMiB: memory.limitMiB,
      memoryReservationMiB: memory.reservationMiB,
      essential: true,
      stopTimeout: Duration.seconds(props.drainSeconds),
      logging: LogDrivers.awsLogs({ streamPrefix: 'ingest', logGroup }),
      portMappings: [
        { containerPort: props.srtPort, protocol: EcsProtocol.UDP, name: 'srt' },
        { containerPort: props.rtpPort, protocol: EcsProtocol.UDP, name: 'rtp' },
        { containerPort: props.healthPort, protocol: EcsProtocol.TCP, name: 'health' },
      ],
      environment: {
        // Read by the NVIDIA container runtime, not by the service: NVENC/NVDEC need the driver's video
        // capability inside the container, not only compute.
        NVIDIA_DRIVER_CAPABILITIES: 'compute,video,utility',
        ...environmentOf(StageEnv, { MIRROR_STAGE: props.stage }),
        ...environmentOf(IngestTaskEnv, {
          MIRROR_GPU: 'required',
          MIRROR_NVENC_SESSIONS_PER_GPU: String(props.nvencSessionsPerGpu),
          MIRROR_SRT_PORT: String(props.srtPort),
          MIRROR_HEALTH_PORT: String(props.healthPort),
          MIRROR_DRAIN_S: String(props.drainSeconds),
          MIRROR_MAX_BUFFER_MB: String(memory.inputBufferMiB),
        }),
        ...environmentOf(RtpIngestEnv, { MIRROR_RTP_PORT: String(props.rtpPort) }),
        ...environmentOf(IngestClusterEnv, { MIRROR_ECS_CLUSTER: this.cluster.clusterName }),
        ...environmentOf(PackagingEnv, {
          MIRROR_WINDOW_SEGMENTS: String(props.packaging.windowSegments),
          MIRROR_LADDER: props.packaging.ladder,
          MIRROR_DVR_WINDOW_S: String(props.packaging.dvrWindowS),
        }),
        // The recordings index expires with the objects the bucket's lifecycle expires (D40).
        ...environmentOf(RecordingEnv, {
          MIRROR_RECORDING_RETENTION_DAYS: String(props.packaging.recordingRetentionDays),
        }),
      },
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Execution role generated by CDK: ecr:GetAuthorizationToken takes no resource ARN (image pulls are scoped to the asset repository).',
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Only non-secret settings are plain environment variables; the Redis AUTH token is injected from Secrets Manager.',
    });
    // A publishing task protects itself from scale-in through the ECS agent's task-protection endpoint.
    taskDefinition.addToTaskRolePolicy(
      new PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [
          Stack.of(this).formatArn({
            service: 'ecs',
            resource: 'task',
            resourceName: `${this.cluster.clusterName}/*`,
          }),
        ],
      }),
    );
    const clusterLogicalId = Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement);
    Validations.of(taskDefinition).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${clusterLogicalId}>/*]`,
      reason: 'Task ids are not known in advance; scoped to tasks of this cluster.',
    });
    return container;
  }

  /**
   * A task reads its own service's deployments to notice that a new one replaced it while scale-in protection kept
   * it running (containers/ingest/src/deployment-watch.ts, decision D20): ecs:DescribeServices on this service only.
   * A policy of its own, not the task role's default policy: the service depends on the task role and everything
   * under it, so a statement naming the service there would be a dependency cycle.
   */
  private allowDeploymentWatch(taskDefinition: Ec2TaskDefinition): void {
    new Policy(this, 'DeploymentWatchPolicy', {
      roles: [taskDefinition.taskRole],
      statements: [
        new PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [this.service.serviceArn] }),
      ],
    });
  }

  /** The internet-facing NLB: SRT and RTP over UDP from the encoder CIDRs to the tasks (udp-load-balancer.ts). */
  private addSrtLoadBalancer(taskSecurityGroup: SecurityGroup): NetworkLoadBalancer {
    const { props } = this;
    return addUdpLoadBalancer(this, {
      vpc: props.vpc,
      listeners: [
        { id: 'Srt', label: 'SRT', port: props.srtPort },
        { id: 'Rtp', label: 'RTP', port: props.rtpPort },
      ],
      healthPort: props.healthPort,
      healthCheckPath: HEALTH_CHECK_PATH,
      encoderCidrs: props.encoderCidrs,
      drainSeconds: props.drainSeconds,
      deregistrationDelayS: DEREGISTRATION_DELAY_S,
      taskSecurityGroup,
      service: this.service,
      container: this.container,
    });
  }

  /** Task count between minTasks and maxTasks, stepped on the share of NVENC session slots in use. */
  private addScaling(): void {
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: this.props.minTasks,
      maxCapacity: this.props.maxTasks,
    });
    scaling.scaleOnMetric('SessionUtilization', {
      metric: this.sessionUtilization(),
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: SCALE_IN_BELOW, change: -1 },
        { lower: SCALE_OUT_AT, change: +1 },
        { lower: SCALE_OUT_FAST_AT, change: +2 },
      ],
      cooldown: Duration.minutes(2),
    });
  }

  /** Average share of NVENC session slots in use across running tasks, percent (emitted by each task). */
  sessionUtilization(): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: MetricNames.ingest.sessionUtilization,
      dimensionsMap: {
        [METRIC_DIMENSION_STAGE]: this.props.stage,
        [METRIC_DIMENSION_SERVICE]: MetricServices.ingest,
      },
      statistic: 'Average',
      period: Duration.minutes(1),
    });
  }

  /**
   * For the control function: MIRROR_ECS_CLUSTER/SERVICE/MIN_TASKS/MAX_TASKS and ecs:UpdateService plus
   * ecs:DescribeServices on this one service.
   */
  bindControlTo(target: BindTarget): void {
    bindEnvironment(target, IngestScalingEnv, {
      MIRROR_ECS_CLUSTER: this.cluster.clusterName,
      MIRROR_ECS_SERVICE: this.service.serviceName,
      MIRROR_MIN_TASKS: String(this.props.minTasks),
      MIRROR_MAX_TASKS: String(this.props.maxTasks),
    });
    bindEnvironment(target, SrtEndpointEnv, {
      MIRROR_SRT_HOST: this.loadBalancer.loadBalancerDnsName,
      MIRROR_SRT_PORT: String(this.props.srtPort),
    });
    bindEnvironment(target, RtpEndpointEnv, { MIRROR_RTP_PORT: String(this.props.rtpPort) });
    target.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:UpdateService', 'ecs:DescribeServices'],
        resources: [this.service.serviceArn],
      }),
    );
  }
}
