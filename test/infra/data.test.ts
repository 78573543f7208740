import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { dvrWindowDays, loadStageConfig } from '../../infra/config.js';
import { dataSettings } from '../../infra/mirror.js';
import { DataStack } from '../../infra/stacks/data-stack.js';
import { NetworkStack } from '../../infra/stacks/network-stack.js';
import { cdkJsonContext } from './synth.js';

// Network and stateful stacks alone (no bundling), configured as prod: 2 Redis replicas, data retained.
const config = loadStageConfig('prod');
const app = new App({ context: cdkJsonContext(), builtinCloudFormationValidation: false });
const networkStack = new NetworkStack(app, 'Network');
const dataStack = new DataStack(app, 'Data', {
  vpc: networkStack.vpc,
  ...dataSettings(config),
});
const network = Template.fromStack(networkStack);
const data = Template.fromStack(dataStack);

/** The media bucket: the one whose lifecycle filters on the mirror-class tag. */
function mediaBucket() {
  const buckets = data.findResources('AWS::S3::Bucket', {
    Properties: {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-part' })]) },
    },
  });
  expect(Object.keys(buckets)).toHaveLength(1);
  return Object.entries(buckets)[0]!;
}

describe('network', () => {
  it('spans two availability zones with public and private-with-egress subnets', () => {
    network.resourceCountIs('AWS::EC2::Subnet', 4);
    network.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 2);
    network.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false }, 2);
    // Private subnets route to the internet through NAT (egress), never through the internet gateway.
    network.hasResourceProperties('AWS::EC2::Route', {
      DestinationCidrBlock: '0.0.0.0/0',
      NatGatewayId: Match.anyValue(),
    });
  });

  it('has an S3 gateway endpoint so media uploads bypass NAT', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
  });

  it('logs all VPC flows', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
  });
});

describe('media storage', () => {
  it("blocks public access and encrypts at rest; its policy (TLS only, one distribution) is the platform stack's", () => {
    const [logicalId, bucket] = mediaBucket();
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    // S3 keeps one policy per bucket, and only the platform stack can name the distribution (test/infra/edges.test.ts).
    data.resourcePropertiesCountIs('AWS::S3::BucketPolicy', { Bucket: { Ref: logicalId } }, 0);
  });

  it('expires live parts after 1 day by their mirror-class tag', () => {
    expect(mediaBucket()[1].Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ TagFilters: [{ Key: 'mirror-class', Value: 'part' }], ExpirationInDays: 1 }),
    );
  });

  it.each(['segment', 'init'])('expires %s objects after the DVR window in whole days', (mediaClass) => {
    expect(mediaBucket()[1].Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({
        TagFilters: [{ Key: 'mirror-class', Value: mediaClass }],
        ExpirationInDays: dvrWindowDays(config.media.dvrWindowS),
        Status: 'Enabled',
      }),
    );
  });

  it('keeps recordings in Standard (no transition, decision D40) and expires them after the retention', () => {
    const rule = mediaBucket()[1].Properties.LifecycleConfiguration.Rules.find(
      (r: { Id: string }) => r.Id === 'recordings',
    );
    expect(rule).toEqual({
      Id: 'recordings',
      TagFilters: [{ Key: 'mirror-class', Value: 'recording' }],
      ExpirationInDays: config.media.recordingRetentionDays,
      Status: 'Enabled',
    });
  });

  it('aborts incomplete multipart uploads after 1 day', () => {
    expect(mediaBucket()[1].Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
  });

  it('writes server access logs to the log bucket', () => {
    expect(mediaBucket()[1].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: expect.stringMatching(/Logs/) },
      LogFilePrefix: 's3/media/',
    });
  });

  it('retains the buckets when the stack is deleted (prod)', () => {
    const [, bucket] = mediaBucket();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  it('gives writers PutObjectTagging (the lifecycle tag) and readers no write action', () => {
    data.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: 'Publish Mirror media objects with their lifecycle tag',
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['s3:PutObject', 's3:PutObjectTagging']) }),
        ]),
      },
    });
    const readers = data.findResources('AWS::IAM::ManagedPolicy', {
      Properties: { Description: 'Read Mirror media objects' },
    });
    expect(JSON.stringify(readers)).not.toMatch(/s3:Put|s3:Delete/);
  });
});

describe('live state', () => {
  it('encrypts in transit (TLS required) and at rest', () => {
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
    });
  });

  it('admits users of its own user group (one IAM user per component, D38), not a shared AUTH token', () => {
    const group = Object.keys(data.findResources('AWS::ElastiCache::UserGroup'))[0]!;
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      UserGroupIds: [{ Ref: group }],
      AuthToken: Match.absent(),
    });
  });

  it('runs Multi-AZ with automatic failover and the configured replicas (prod: primary + 2)', () => {
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      NumCacheClusters: config.redis.replicas + 1,
      CacheNodeType: config.redis.nodeType,
    });
  });

  it('lives in the private subnets', () => {
    const subnets = new Set(
      Object.values(
        network.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }),
      ).map(() => 'private'),
    );
    expect(subnets.size).toBe(1);
    data.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: Match.arrayEquals([
        { 'Fn::ImportValue': Match.stringLikeRegexp('privateSubnet1') },
        { 'Fn::ImportValue': Match.stringLikeRegexp('privateSubnet2') },
      ]),
    });
  });

  it('has a security group with no ingress of its own: only bound tasks and functions get in', () => {
    data.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('live state'),
      SecurityGroupIngress: Match.absent(),
    });
    data.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('keeps a final snapshot when the stack is deleted (prod)', () => {
    const [group] = Object.values(data.findResources('AWS::ElastiCache::ReplicationGroup'));
    expect(group!.DeletionPolicy).toBe('Snapshot');
  });
});
