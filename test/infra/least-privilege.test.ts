import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { accessString, REDIS_COMPONENTS } from '../../core/contracts/redis-acl.js';
import { onlyResource, synthStage } from './synth.js';

// Decision D38: one IAM-authenticated ElastiCache user per component, each role may connect as its own user only;
// the SRT passphrases' KMS key lets the control function seal and the ingest task open, nothing else.
const { data, platform } = synthStage('dev');

type Json = Record<string, unknown>;
const users = () =>
  Object.entries(data.findResources('AWS::ElastiCache::User')).map(([id, r]) => ({
    id,
    props: (r as { Properties: Json }).Properties,
  }));
const userOf = (component: string) => {
  const found = users().filter((u) => String(u.props.UserId).endsWith(`-${component}`));
  expect(found, component).toHaveLength(1);
  return found[0]!;
};
/** Statements of every inline policy attached to a role whose logical id matches. */
const statementsOfRole = (roleLogicalId: string) =>
  Object.values(platform.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
const roleOfFunction = (service: string) => {
  const [fn] = Object.values(
    platform.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service }) } },
    }),
  );
  return (
    (fn as { Properties: { Role: { 'Fn::GetAtt': string[] } } }).Properties.Role['Fn::GetAtt'] as string[]
  )[0]!;
};
const ingestTaskRole = () => {
  const task = onlyResource(platform, 'AWS::ECS::TaskDefinition').properties as {
    TaskRoleArn: { 'Fn::GetAtt': string[] };
  };
  return task.TaskRoleArn['Fn::GetAtt'][0]!;
};
/** The `user:<id>` resources a role may elasticache:Connect as. */
const connectableUsers = (roleLogicalId: string) =>
  statementsOfRole(roleLogicalId)
    .filter((s) => s.Action === 'elasticache:Connect')
    .flatMap((s) => s.Resource as unknown[])
    .map((r) => JSON.stringify(r))
    .filter((r) => r.includes(':user:'));

describe('ElastiCache users (D38)', () => {
  it('has one IAM-authenticated user per component, with the access string of the one ACL table', () => {
    for (const component of REDIS_COMPONENTS) {
      const { props } = userOf(component);
      expect(props.UserId).toBe(props.UserName); // IAM authentication requires it
      expect(props.AccessString).toBe(accessString(component));
      expect(props.AuthenticationMode).toEqual({ Type: 'iam' });
      expect(String(props.UserId)).toMatch(/^[a-z][a-z0-9-]{0,39}$/);
    }
  });

  it('keeps the public functions away from stream secrets and from writing live state', () => {
    const manifest = String(userOf('manifest').props.AccessString);
    const session = String(userOf('session').props.AccessString);
    for (const access of [manifest, session]) expect(access).not.toMatch(/mirror:secret|~\*|allkeys/);
    expect(manifest).toContain('%R~mirror:live:*');
    expect(manifest).not.toContain('+@write');
    expect(session).not.toMatch(/mirror:live/);
  });

  it('puts them, and a disabled default user, in the group attached to the replication group', () => {
    const group = onlyResource(data, 'AWS::ElastiCache::UserGroup');
    const members = (group.properties.UserIds as unknown[]).map((m) => JSON.stringify(m));
    expect(members).toHaveLength(REDIS_COMPONENTS.length + 1);
    const defaultUser = users().find((u) => u.props.UserName === 'default')!;
    expect(defaultUser.props.AccessString).toBe('off -@all');
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      UserGroupIds: [{ Ref: group.logicalId }],
      EngineVersion: Match.stringLikeRegexp('^7'), // IAM authentication needs engine 7 or later
      TransitEncryptionEnabled: true,
    });
  });

  it('lets each role connect as its own user only', () => {
    const expectations: Array<[string, string]> = [
      [roleOfFunction('manifest'), 'manifest'],
      [roleOfFunction('session'), 'session'],
      [roleOfFunction('control'), 'control'],
      [ingestTaskRole(), 'ingest'],
    ];
    for (const [role, component] of expectations) {
      const allowed = connectableUsers(role);
      expect(allowed, component).toHaveLength(1);
      expect(allowed[0], component).toContain(`-${component}`);
      for (const other of REDIS_COMPONENTS.filter((c) => c !== component)) {
        expect(allowed[0], `${component} may not connect as ${other}`).not.toContain(`-${other}"`);
      }
    }
  });
});

describe('the passphrases key (D38)', () => {
  const key = () =>
    onlyResource(platform, 'AWS::KMS::Key').properties as Json & { KeyPolicy: { Statement: Json[] } };
  const statement = (sid: string) => key().KeyPolicy.Statement.find((s) => s.Sid === sid)!;

  it('gives the account administration only, never a cryptographic action', () => {
    const admin = statement('KeyAdministration');
    const actions = admin.Action as string[];
    for (const crypto of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:*', 'kms:ReEncrypt*']) {
      expect(actions).not.toContain(crypto);
    }
    expect(key().EnableKeyRotation).toBe(true);
  });

  it('lets the control role GenerateDataKey and the ingest task role Decrypt, for stream secrets only', () => {
    const seal = statement('SealPassphrases');
    const open = statement('OpenPassphrases');
    expect(seal.Action).toBe('kms:GenerateDataKey');
    expect(open.Action).toBe('kms:Decrypt');
    expect(JSON.stringify(seal.Principal)).toContain(roleOfFunction('control'));
    expect(JSON.stringify(open.Principal)).toContain(ingestTaskRole());
    for (const s of [seal, open]) {
      expect(s.Condition).toEqual({
        StringLike: { 'kms:EncryptionContext:mirror:secret': 'mirror:stream:*' },
      });
    }
    // Nobody else: the policy has exactly these three statements.
    expect(
      key()
        .KeyPolicy.Statement.map((s) => s.Sid)
        .sort(),
    ).toEqual(['KeyAdministration', 'OpenPassphrases', 'SealPassphrases']);
  });
});

describe('recording delete (D40)', () => {
  const policies = Object.entries(data.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) =>
    id.includes('DeleteRecordings'),
  );

  it('grants read and delete on the recording objects of the media bucket only', () => {
    expect(policies).toHaveLength(1);
    const [statement, ...others] = policies[0]![1].Properties.PolicyDocument.Statement as Json[];
    expect(others).toEqual([]);
    expect(statement!.Action).toEqual(['s3:DeleteObject', 's3:GetObject']);
    const bucket = Object.keys(data.findResources('AWS::S3::Bucket')).find((id) =>
      id.startsWith('MediaStorageMedia'),
    );
    expect(statement!.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*/rec*']] });
  });

  it('is attached to the control function alone', () => {
    const [policyId] = policies[0]!;
    const holders = Object.entries(platform.findResources('AWS::IAM::Role'))
      .filter(([, r]) => JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes(policyId))
      .map(([id]) => id);
    expect(holders).toEqual([roleOfFunction('control')]);
  });
});
