import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadStageConfig } from '../../infra/config.js';
import { DEREGISTRATION_DELAY_S } from '../../infra/constructs/ingest/ingest.js';
import { onlyResource, synthStage } from './synth.js';

/**
 * RTP ingest on AWS (issue 15, decision D46): a second UDP listener on the SRT NLB, its own target group
 * health-checked like SRT's, the same encoder CIDR allow-list, the port in the container and both environments.
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const ENCODERS = ['203.0.113.0/24', '198.51.100.0/24'];
const RTP_PORT = 5006; // not the default: proves the stage setting reaches every place
const { platform } = synthStage('dev', { ingest: { encoderCidrs: ENCODERS, rtpPort: RTP_PORT } });

const targetGroups = () =>
  Object.entries(platform.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')) as [string, Json][];
const targetGroupOn = (port: number) => {
  const found = targetGroups().filter(([, r]) => r.Properties.Port === port);
  expect(found).toHaveLength(1);
  return found[0] as [string, Json];
};

describe('RTP ingest infrastructure', () => {
  it('listens for RTP on UDP on the same NLB as SRT, forwarding to the tasks as ip targets', () => {
    const nlb = onlyResource(platform, 'AWS::ElasticLoadBalancingV2::LoadBalancer').logicalId;
    const [rtpTargets] = targetGroupOn(RTP_PORT);
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: nlb },
      Protocol: 'UDP',
      Port: RTP_PORT,
      DefaultActions: [Match.objectLike({ TargetGroupArn: { Ref: rtpTargets } })],
    });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: nlb },
      Protocol: 'UDP',
      Port: 9000,
    });
    expect(Object.keys(platform.findResources('AWS::ElasticLoadBalancingV2::Listener'))).toHaveLength(2);
    // SRT's resources keep the ids they had before RTP: a deploy replaces neither them nor the NLB.
    const [srtTargets] = targetGroupOn(9000);
    expect(srtTargets).toMatch(/^IngestSrtTargets/);
    expect(rtpTargets).toMatch(/^IngestRtpTargets/);
    expect(nlb).toMatch(/^IngestLoadBalancer[0-9A-F]{8}$/);
  });

  it("health-checks the RTP target group like SRT's: the task's HTTP health port, flows kept through the drain", () => {
    const [, srt] = targetGroupOn(9000);
    const [, rtp] = targetGroupOn(RTP_PORT);
    const check = (r: Json) => ({
      protocol: r.Properties.Protocol,
      targetType: r.Properties.TargetType,
      healthCheck: [
        r.Properties.HealthCheckProtocol,
        r.Properties.HealthCheckPort,
        r.Properties.HealthCheckPath,
      ],
      attributes: r.Properties.TargetGroupAttributes,
    });
    expect(check(rtp)).toEqual(check(srt));
    expect(check(rtp)).toMatchObject({
      protocol: 'UDP',
      targetType: 'ip',
      healthCheck: ['HTTP', '8081', '/health'],
    });
    expect(rtp.Properties.TargetGroupAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(DEREGISTRATION_DELAY_S) },
        { Key: 'target_health_state.unhealthy.connection_termination.enabled', Value: 'false' },
      ]),
    );
  });

  it('admits RTP only from the encoder CIDRs, and the tasks only from the NLB', () => {
    const sg = onlyResource(platform, 'AWS::ElasticLoadBalancingV2::LoadBalancer').properties
      .SecurityGroups as Json[];
    const nlbSg = sg[0]['Fn::GetAtt'][0];
    const ingress = platform.findResources('AWS::EC2::SecurityGroup')[nlbSg]!.Properties
      .SecurityGroupIngress as Json[];
    const rule = (cidr: string, port: number) =>
      expect.objectContaining({ CidrIp: cidr, IpProtocol: 'udp', FromPort: port, ToPort: port });
    expect(ingress).toEqual(
      expect.arrayContaining(ENCODERS.flatMap((cidr) => [rule(cidr, 9000), rule(cidr, RTP_PORT)])),
    );
    expect(ingress).toHaveLength(ENCODERS.length * 2);
    platform.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'udp',
      FromPort: RTP_PORT,
      ToPort: RTP_PORT,
      SourceSecurityGroupId: { 'Fn::GetAtt': [nlbSg, 'GroupId'] },
    });
  });

  it('maps the RTP port in the container, registers it with the service and tells both sides the port', () => {
    const container = (
      onlyResource(platform, 'AWS::ECS::TaskDefinition').properties.ContainerDefinitions as Json[]
    )[0];
    expect(container.PortMappings).toContainEqual(
      expect.objectContaining({ ContainerPort: RTP_PORT, Protocol: 'udp', Name: 'rtp' }),
    );
    expect(container.Environment).toContainEqual({ Name: 'MIRROR_RTP_PORT', Value: String(RTP_PORT) });
    const [rtpTargets] = targetGroupOn(RTP_PORT);
    platform.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: Match.arrayWith([
        Match.objectLike({ ContainerPort: RTP_PORT, TargetGroupArn: { Ref: rtpTargets } }),
      ]),
    });
    // The control function hands out rtp://<NLB name>:<port>: the same port.
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MIRROR_RTP_PORT: String(RTP_PORT), MIRROR_SRT_HOST: Match.anyValue() }),
      },
    });
  });

  it('defaults the port to 5004 and refuses one that collides with SRT or health', () => {
    expect(loadStageConfig('prod').ingest.rtpPort).toBe(5004);
    for (const rtpPort of [9000, 8081]) {
      expect(() => loadStageConfig('dev', { ingest: { rtpPort } })).toThrow(ConfigError);
      expect(() => loadStageConfig('dev', { ingest: { rtpPort } })).toThrow(/rtpPort/);
    }
  });
});
