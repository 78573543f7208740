import { Duration, Validations } from 'aws-cdk-lib';
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { type ContainerDefinition, type Ec2Service, Protocol as EcsProtocol } from 'aws-cdk-lib/aws-ecs';
import {
  NetworkLoadBalancer,
  NetworkTargetGroup,
  Protocol,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';

/** One contribution protocol's UDP port on the NLB: SRT, and RTP (decision D46). */
export interface UdpIngestListener {
  /** Construct id stem: `<id>Targets` and the listener `<id>` (SRT's ids predate RTP's: kept, so no replacement). */
  readonly id: 'Srt' | 'Rtp';
  /** In rule descriptions: `SRT from 203.0.113.0/24`. */
  readonly label: string;
  readonly port: number;
}

export interface UdpLoadBalancerProps {
  readonly vpc: IVpc;
  readonly listeners: readonly UdpIngestListener[];
  readonly healthPort: number;
  readonly healthCheckPath: string;
  /** CIDRs allowed to reach every listener's port. */
  readonly encoderCidrs: readonly string[];
  readonly drainSeconds: number;
  readonly deregistrationDelayS: number;
  readonly taskSecurityGroup: SecurityGroup;
  readonly service: Ec2Service;
  readonly container: ContainerDefinition;
}

/**
 * The internet-facing NLB: one UDP listener per contribution protocol, each from the same encoder CIDRs to the same
 * tasks, each target group health-checked over HTTP on the task's health port (one answer for both: a task that
 * drains takes no new SRT callers and no new RTP sources). Created in the Ingest construct's scope, under the ids it
 * always had, so adding a listener replaces nothing (a new NLB would change the DNS name encoders send to).
 */
export function addUdpLoadBalancer(scope: Construct, props: UdpLoadBalancerProps): NetworkLoadBalancer {
  const nlbSecurityGroup = new SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc: props.vpc,
    description: 'Mirror SRT ingest: encoders only',
    allowAllOutbound: false,
  });
  for (const listener of props.listeners) {
    for (const cidr of props.encoderCidrs) {
      nlbSecurityGroup.addIngressRule(
        Peer.ipv4(cidr),
        Port.udp(listener.port),
        `${listener.label} from ${cidr}`,
      );
    }
  }
  if (props.encoderCidrs.includes('0.0.0.0/0')) {
    Validations.of(nlbSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'This stage admits SRT and RTP from any address (encoderCidrs 0.0.0.0/0); each stream still needs its publish passphrase or SRTP key (plain RTP only from the sources an operator lists). Restrict encoderCidrs in production.',
    });
  }
  const loadBalancer = new NetworkLoadBalancer(scope, 'LoadBalancer', {
    vpc: props.vpc,
    internetFacing: true,
    vpcSubnets: { subnetType: SubnetType.PUBLIC },
    securityGroups: [nlbSecurityGroup],
    crossZoneEnabled: true,
  });
  Validations.of(loadBalancer).acknowledge({
    id: 'AwsSolutions-ELB2',
    reason:
      'NLB access logs are only written for TLS listeners; SRT and RTP are UDP. Flow logs cover the VPC side.',
  });
  for (const listener of props.listeners) {
    props.taskSecurityGroup.connections.allowFrom(
      nlbSecurityGroup,
      Port.udp(listener.port),
      `${listener.label} from the NLB`,
    );
  }
  props.taskSecurityGroup.connections.allowFrom(
    nlbSecurityGroup,
    Port.tcp(props.healthPort),
    'NLB health checks',
  );
  for (const listener of props.listeners) addListener(scope, loadBalancer, listener, props);
  return loadBalancer;
}

function addListener(
  scope: Construct,
  loadBalancer: NetworkLoadBalancer,
  listener: UdpIngestListener,
  props: UdpLoadBalancerProps,
): void {
  const targetGroup = new NetworkTargetGroup(scope, `${listener.id}Targets`, {
    vpc: props.vpc,
    port: listener.port,
    protocol: Protocol.UDP,
    targetType: TargetType.IP,
    // ECS deregisters a task and waits out this delay before SIGTERM; the task cannot tell it is deregistered,
    // so a long delay only postpones the drain. Its flows are not cut at the end: they stay with the task
    // through its SIGTERM drain, which closes each publisher with a reason once another task has room
    // (containers/ingest/src/service/drain.ts, decision D19).
    deregistrationDelay: Duration.seconds(props.deregistrationDelayS),
    connectionTermination: false,
    healthCheck: {
      protocol: Protocol.HTTP,
      port: String(props.healthPort),
      path: props.healthCheckPath,
      interval: Duration.seconds(10),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
    },
  });
  // A draining task answers 503 (no new flows for it) but keeps its publishers for the stop timeout; by default
  // the NLB would cut every flow of an unhealthy target at once. After the interval, flows of a task that is
  // still unhealthy (stopped, or crashed) are cut, so an encoder that reuses its source port is not pinned to it.
  targetGroup.setAttribute('target_health_state.unhealthy.connection_termination.enabled', 'false');
  targetGroup.setAttribute(
    'target_health_state.unhealthy.draining_interval_seconds',
    String(props.drainSeconds),
  );
  targetGroup.addTarget(
    props.service.loadBalancerTarget({
      containerName: props.container.containerName,
      containerPort: listener.port,
      protocol: EcsProtocol.UDP,
    }),
  );
  loadBalancer.addListener(listener.id, {
    port: listener.port,
    protocol: Protocol.UDP,
    defaultTargetGroups: [targetGroup],
  });
}
