import { describe, expect, it } from 'vitest';
import { onlyResource, synthStage } from './synth.js';

/**
 * An ingest task watches its own service's deployments so that scale-in protection does not stall a deploy
 * (containers/ingest/src/deployment-watch.ts, decision D20): the container knows its cluster, and its task role may
 * describe this one service and nothing else.
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const { platform } = synthStage('prod');
const service = onlyResource(platform, 'AWS::ECS::Service');
const cluster = onlyResource(platform, 'AWS::ECS::Cluster');
const task = onlyResource(platform, 'AWS::ECS::TaskDefinition').properties as Json;
const taskRole = task.TaskRoleArn['Fn::GetAtt'][0] as string;

/** Every policy statement granting ecs:DescribeServices, with the policy's id and roles. */
function describeServicesGrants() {
  return Object.entries(platform.findResources('AWS::IAM::Policy')).flatMap(([id, p]: [string, Json]) =>
    (p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().includes('ecs:DescribeServices'))
      .map((statement) => ({ id, roles: p.Properties.Roles as Json[], statement })),
  );
}

describe('ingest deployment watch (ECS permissions and environment)', () => {
  it('lets the task role describe its own service only, with no other ECS read', () => {
    const grants = describeServicesGrants().filter((g) => g.roles.some((r: Json) => r.Ref === taskRole));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.statement).toEqual({
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      // Ref of an ECS service is its ARN: this service, no wildcard.
      Resource: { Ref: service.logicalId },
    });
  });

  it('keeps the grant out of what the service depends on (a dependency cycle CloudFormation would refuse)', () => {
    const [grant] = describeServicesGrants().filter((g) => g.roles.some((r: Json) => r.Ref === taskRole));
    const dependsOn = (platform.findResources('AWS::ECS::Service')[service.logicalId] as Json).DependsOn;
    expect(dependsOn).toContain(taskRole);
    expect(dependsOn).not.toContain(grant!.id);
  });

  it('binds the cluster name on the container (the service name comes from the task metadata)', () => {
    const environment = task.ContainerDefinitions[0].Environment as Array<{ Name: string; Value: Json }>;
    expect(environment).toContainEqual({ Name: 'MIRROR_ECS_CLUSTER', Value: { Ref: cluster.logicalId } });
    // The task definition cannot name the service that uses it: that would be a cycle too.
    expect(environment.map((e) => e.Name)).not.toContain('MIRROR_ECS_SERVICE');
  });
});
