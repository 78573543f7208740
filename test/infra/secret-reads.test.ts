import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthStage } from './synth.js';

// D48: the session function reads its cold-start secrets in one BatchGetSecretValue. The action takes no resource,
// so it is granted on `*`; what keeps it harmless is that every secret the function is told to read is still
// granted to it by ARN (GetSecretValue), and only the function that reads several secrets at once holds it.
const { platform } = synthStage('dev');

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const fn = (service: string): Json => {
  const found = Object.values(
    platform.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service }) } },
    }),
  );
  expect(found, service).toHaveLength(1);
  return found[0] as Json;
};
const statementsOf = (service: string): Json[] => {
  const role = fn(service).Properties.Role['Fn::GetAtt'][0] as string;
  return Object.values(platform.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
};
const actions = (st: Json): string[] => [st.Action].flat();

describe('secret reads at cold start (D48)', () => {
  it('grants BatchGetSecretValue once, alone in its statement, to the session function only', () => {
    const batch = statementsOf('session').filter((st) =>
      actions(st).includes('secretsmanager:BatchGetSecretValue'),
    );
    expect(batch).toEqual([{ Action: 'secretsmanager:BatchGetSecretValue', Effect: 'Allow', Resource: '*' }]);
    // Control reads one secret on AWS (its Redis password is an IAM token), the manifest none.
    for (const service of ['control', 'manifest']) {
      expect(JSON.stringify(statementsOf(service)), service).not.toContain('BatchGetSecretValue');
    }
  });

  it('still grants GetSecretValue on the ARN of every secret a function is told to read', () => {
    for (const service of ['session', 'control']) {
      const variables = fn(service).Properties.Environment.Variables as Json;
      const arns = Object.entries(variables)
        .filter(([name]) => /^MIRROR_\w+_SECRET_ARN$/.test(name))
        .map(([, value]) => JSON.stringify(value));
      expect(arns.length, service).toBeGreaterThan(0);
      const readable = statementsOf(service)
        .filter((st) => actions(st).includes('secretsmanager:GetSecretValue'))
        .flatMap((st) => [st.Resource].flat().map((r) => JSON.stringify(r)));
      for (const arn of arns) expect(readable, `${service} ${arn}`).toContain(arn);
      expect(readable, service).not.toContain('"*"');
    }
  });
});
