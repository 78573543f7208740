import { describe, expect, it } from 'vitest';
import { synthStage } from './synth.js';

// The operators' view of the live state and the failover drill: the control function alone may call ElastiCache,
// with DescribeReplicationGroups and TestFailover on this stage's replication group and nothing else.

type Json = Record<string, unknown>;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const { platform, data, stacks } = synthStage('prod');

function functionLogicalId(service: string): string {
  const found = Object.entries(platform.findResources('AWS::Lambda::Function')).filter(
    ([, f]) =>
      (f as Json & { Properties: Json }).Properties.Environment !== undefined &&
      JSON.stringify((f as { Properties: Json }).Properties.Environment).includes(
        `"POWERTOOLS_SERVICE_NAME":"${service}"`,
      ),
  );
  expect(found).toHaveLength(1);
  return found[0]![0];
}

function roleOf(fnLogicalId: string): string {
  const fn = platform.findResources('AWS::Lambda::Function')[fnLogicalId] as { Properties: { Role: Json } };
  return (fn.Properties.Role['Fn::GetAtt'] as string[])[0]!;
}

/** The ElastiCache statements of every policy in the platform stack, with the roles they are attached to. */
function elastiCacheStatements(): Array<{ roles: string; statement: Statement }> {
  return Object.values(platform.findResources('AWS::IAM::Policy')).flatMap((p) => {
    const props = (p as { Properties: { Roles: unknown; PolicyDocument: { Statement: Statement[] } } })
      .Properties;
    // elasticache:Connect (each component's own user, D38) is checked in least-privilege.test.ts.
    return props.PolicyDocument.Statement.filter(
      (s) => JSON.stringify(s.Action).includes('elasticache:') && s.Action !== 'elasticache:Connect',
    ).map((statement) => ({ roles: JSON.stringify(props.Roles), statement }));
  });
}

describe('ElastiCache permissions for the live state', () => {
  it('grants the control function DescribeReplicationGroups and TestFailover on this stage’s group only', () => {
    const found = elastiCacheStatements();
    expect(found).toHaveLength(1);
    const [{ roles, statement }] = found as [{ roles: string; statement: Statement }];
    expect(roles).toContain(`"${roleOf(functionLogicalId('control'))}"`);
    expect(statement.Effect).toBe('Allow');
    expect(statement.Action).toEqual(['elasticache:DescribeReplicationGroups', 'elasticache:TestFailover']);
    // arn:<partition>:elasticache:<region>:<account>:replicationgroup:<the data stack's group id>, no wildcard.
    const resource = JSON.stringify(statement.Resource);
    expect(resource).not.toContain('*');
    expect(resource).toContain(':elasticache:');
    expect(resource).toContain(':replicationgroup:');
    const groupLogicalId = Object.keys(data.findResources('AWS::ElastiCache::ReplicationGroup'))[0]!;
    expect(resource).toContain(groupLogicalId);
  });

  it('binds the replication group id to the control function alone', () => {
    for (const service of ['manifest', 'session', 'control']) {
      const fn = platform.findResources('AWS::Lambda::Function')[functionLogicalId(service)] as {
        Properties: { Environment: { Variables: Json } };
      };
      const bound = Object.hasOwn(fn.Properties.Environment.Variables, 'MIRROR_REDIS_REPLICATION_GROUP');
      expect(bound, service).toBe(service === 'control');
    }
    expect(stacks.platform.dependencies).toContain(stacks.data);
  });
});
