import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { onlyResource, synthStage } from './synth.js';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, asserted field by field
type Json = any;

/** prod as shipped: playback protection on by default (D37). */
const { platform } = synthStage('prod');
const resources = (type: string) => platform.findResources(type) as Record<string, Json>;
const idOf = (type: string) => onlyResource(platform, type).logicalId;
const kvs = () => idOf('AWS::CloudFront::KeyValueStore');
const ringId = () => {
  const ids = Object.keys(resources('AWS::SecretsManager::Secret')).filter((id) =>
    id.includes('PlaybackKeysRing'),
  );
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
/** The PlaybackKeys function (not the provider framework's). */
const keysFunctionId = () => {
  const ids = Object.entries(resources('AWS::Lambda::Function'))
    .filter(([, f]) => f.Properties.Environment?.Variables?.MIRROR_PLAYBACK_KVS_ARN !== undefined)
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const envOf = (service: string) =>
  Object.values(resources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  )?.Properties.Environment.Variables;
const policiesOf = (functionId: string) => {
  const role = resources('AWS::Lambda::Function')[functionId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
};

describe('playback keys in prod (D37)', () => {
  it('turns protection on: the edge checks tokens and the session function signs from the key ring', () => {
    const session = envOf('session');
    expect(session.MIRROR_PLAYBACK_PROTECTION).toBe('on');
    expect(session.MIRROR_PLAYBACK_KEYS_SECRET_ARN).toEqual({ Ref: ringId() });
    expect(envOf('control').MIRROR_PLAYBACK_KEYS_FUNCTION).toEqual({ Ref: keysFunctionId() });
    const checks = Object.values(resources('AWS::CloudFront::Function')).filter(
      (f) => f.Properties.FunctionConfig.KeyValueStoreAssociations !== undefined,
    );
    expect(checks).toHaveLength(2);
    for (const f of checks) {
      expect(f.Properties.FunctionConfig.KeyValueStoreAssociations).toEqual([
        { KeyValueStoreARN: { 'Fn::GetAtt': [kvs(), 'Arn'] } },
      ]);
    }
  });

  it('retains the key ring secret and the KeyValueStore across stack updates and deletion', () => {
    const store = platform.toJSON().Resources[kvs()];
    expect([store.DeletionPolicy, store.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    const ring = platform.toJSON().Resources[ringId()];
    expect([ring.DeletionPolicy, ring.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    // An empty ring in the template: the key material is made by the function, never written into the template.
    expect(JSON.parse(ring.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({
      version: 1,
      keys: [],
    });
    expect(onlyResource(platform, 'AWS::CloudFront::KeyValueStore').properties.ImportSource).toBeUndefined();
  });

  it('fills the KeyValueStore by a custom resource at deploy, naming the store and the ring', () => {
    platform.hasResourceProperties('Custom::MirrorPlaybackKeys', {
      KvsArn: { 'Fn::GetAtt': [kvs(), 'Arn'] },
      SecretArn: { Ref: ringId() },
    });
  });

  it('lets only the key function write the store (its ARN alone) and the ring; the session may only read it', () => {
    const statements = policiesOf(keysFunctionId());
    const kvsStatement = statements.find((s) =>
      JSON.stringify(s.Action).includes('cloudfront-keyvaluestore'),
    );
    expect(kvsStatement).toEqual({
      Effect: 'Allow',
      Action: [
        'cloudfront-keyvaluestore:DescribeKeyValueStore',
        'cloudfront-keyvaluestore:ListKeys',
        'cloudfront-keyvaluestore:UpdateKeys',
      ],
      Resource: { 'Fn::GetAtt': [kvs(), 'Arn'] },
    });
    const secretWrites = statements.filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:PutSecretValue'),
    );
    expect(secretWrites.map((s) => s.Resource)).toEqual([{ Ref: ringId() }]);
    // No other function may write the store or the ring.
    for (const id of Object.keys(resources('AWS::Lambda::Function')).filter((i) => i !== keysFunctionId())) {
      const text = JSON.stringify(policiesOf(id));
      expect(text, id).not.toContain('cloudfront-keyvaluestore:UpdateKeys');
      if (text.includes(ringId())) expect(text, id).not.toContain('PutSecretValue');
    }
  });

  it('runs the upkeep on a schedule (retire after the overlap, rotate every playbackKeyRotationDays)', () => {
    platform.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [keysFunctionId(), 'Arn'] },
          Input: JSON.stringify({ action: 'maintain' }),
        }),
      ]),
    });
    expect(
      resources('AWS::Lambda::Function')[keysFunctionId()].Properties.Environment.Variables
        .MIRROR_PLAYBACK_KEY_ROTATION_DAYS,
    ).toBe('30');
  });

  it('lets the control function invoke the key function (the rotate route)', () => {
    const control = Object.entries(resources('AWS::Lambda::Function')).find(
      ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'control',
    )?.[0] as string;
    const invoke = policiesOf(control).find((s) =>
      JSON.stringify(s.Action).includes('lambda:InvokeFunction'),
    );
    expect(JSON.stringify(invoke?.Resource)).toContain(keysFunctionId());
  });
});
