import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PLAYLIST_CACHE_KEY_QUERY } from '../../core/contracts/delivery.js';
import { FRESHNESS_QUERY } from '../../core/contracts/playlist-freshness.js';
import { SHORTEST_PART_TARGET_MS } from '../../core/latency-profiles.js';
import { METRIC_NAMESPACE, MetricNames } from '../../core/metric-names.js';
import { distributionArn, onlyResource, synthStage } from './synth.js';

/** Synthesized CloudFormation JSON, read by path in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

// dev with every optional feature switched on, so each can be asserted.
const ENCODERS = '203.0.113.0/24';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-aaaa-bbbb-cccc-000000000000';
const { app, stacks, platform } = synthStage('dev', {
  ingest: { encoderCidrs: [ENCODERS], minTasks: 1, maxTasks: 3 },
  delivery: {
    geoAllowList: ['DE', 'AT'],
    domainNames: ['live.example.com'],
    certificateArn: CERT,
    playbackProtection: true,
  },
  alarmEmail: 'ops@example.com',
});
const platformId = stacks.platform.stackName;

const logicalIdOf = (type: string, props: Record<string, unknown>) => {
  const found = Object.keys(platform.findResources(type, { Properties: props }));
  expect(found, `${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0]!;
};
const fn = (service: string) =>
  logicalIdOf('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service }) },
  });
const roleOf = (fnLogicalId: string) =>
  (
    platform.findResources('AWS::Lambda::Function')[fnLogicalId]!.Properties.Role['Fn::GetAtt'] as string[]
  )[0]!;
/** Every policy statement attached to a role (inline policies in this stack). */
const statementsOf = (roleLogicalId: string) =>
  Object.values(platform.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
const distribution = () =>
  onlyResource(platform, 'AWS::CloudFront::Distribution').properties.DistributionConfig as Json;
const behaviour = (pattern: string) =>
  distribution().CacheBehaviors.find((b: Json) => b.PathPattern === pattern);
const origin = (id: string) => distribution().Origins.find((o: Json) => o.Id === id);

describe('ingest', () => {
  it('runs container instances on the ECS GPU-optimized AMI', () => {
    const lt = onlyResource(platform, 'AWS::EC2::LaunchTemplate').properties as Json;
    const param = lt.LaunchTemplateData.ImageId.Ref as string;
    expect(platform.toJSON().Parameters[param].Default).toBe(
      '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id',
    );
  });

  it('uses the configured GPU instance type with encrypted volumes and IMDSv2', () => {
    platform.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'g4dn.xlarge',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
      }),
    });
  });

  it('scales instances with an ECS capacity provider (managed scaling, termination protection, draining)', () => {
    platform.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: {
        AutoScalingGroupArn: Match.anyValue(),
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        ManagedTerminationProtection: 'ENABLED',
        ManagedDraining: 'ENABLED',
      },
    });
  });

  it('requires one GPU per task, with the NVIDIA video capability for NVENC', () => {
    platform.hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [
        Match.objectLike({
          ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
          Environment: Match.arrayWith([
            { Name: 'NVIDIA_DRIVER_CAPABILITIES', Value: Match.stringLikeRegexp('(^|,)video(,|$)') },
            { Name: 'MIRROR_GPU', Value: 'required' },
          ]),
        }),
      ],
    });
  });

  it('connects the ingest as its own IAM-authenticated Redis user, with no shared secret (D38)', () => {
    const environment = new Capture();
    platform.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Environment: environment })],
    });
    const names = (environment.asArray() as Array<{ Name: string; Value: unknown }>).map((e) => e.Name);
    expect(names).toEqual(expect.arrayContaining(['MIRROR_REDIS_USER', 'MIRROR_REDIS_IAM_GROUP']));
    expect(JSON.stringify(platform.findResources('AWS::ECS::TaskDefinition'))).not.toContain(
      'MIRROR_REDIS_AUTH_TOKEN',
    );
  });

  it('maps the SRT port as UDP and the health port as TCP, and stops slowly enough to drain', () => {
    platform.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          PortMappings: [
            Match.objectLike({ ContainerPort: 9000, Protocol: 'udp' }),
            Match.objectLike({ ContainerPort: 5004, Protocol: 'udp' }), // RTP (test/infra/rtp-ingest)
            Match.objectLike({ ContainerPort: 8081, Protocol: 'tcp' }),
          ],
          StopTimeout: 120,
        }),
      ],
    });
  });

  it('builds the image from containers/ingest/Dockerfile with the repository root as context', () => {
    const manifest = JSON.parse(readFileSync(join(app.outdir, `${platformId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as Json[];
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({
      dockerFile: 'containers/ingest/Dockerfile',
      platform: 'linux/amd64',
    });
    const context = join(app.outdir, images[0].source.directory);
    expect(existsSync(join(context, 'containers/ingest/Dockerfile'))).toBe(true);
    expect(existsSync(join(context, 'core'))).toBe(true);
    expect(existsSync(join(context, 'node_modules'))).toBe(false);
    expect(existsSync(join(context, 'infra'))).toBe(false);
  });

  it('runs the service with a rollback circuit breaker and 100% minimum healthy during deployments', () => {
    platform.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
      CapacityProviderStrategy: [Match.objectLike({ CapacityProvider: Match.anyValue() })],
    });
  });

  it('puts an internet-facing NLB with a security group in front of the tasks', () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SecurityGroups: [Match.anyValue()],
    });
  });

  it('listens for SRT on UDP and forwards to ip targets', () => {
    const tg = logicalIdOf('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'UDP', Port: 9000 });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'UDP',
      Port: 9000,
      DefaultActions: [Match.objectLike({ TargetGroupArn: { Ref: tg } })],
    });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 9000,
    });
  });

  it("health-checks the task's HTTP health port, since UDP cannot be health-checked", () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Protocol: 'UDP',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '8081',
      HealthCheckPath: '/health',
    });
  });

  it('keeps SRT flows through deregistration and the drain (the task moves them; test/infra/ingest-drain)', () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'false' },
        { Key: 'target_health_state.unhealthy.draining_interval_seconds', Value: '120' },
      ]),
    });
  });

  it('admits SRT only from the configured encoder CIDRs', () => {
    const sg = onlyResource(platform, 'AWS::ElasticLoadBalancingV2::LoadBalancer').properties
      .SecurityGroups as Json[];
    const sgId = sg[0]['Fn::GetAtt'][0];
    expect(platform.findResources('AWS::EC2::SecurityGroup')[sgId]!.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: ENCODERS, IpProtocol: 'udp', FromPort: 9000, ToPort: 9000 }),
      // RTP's listener, the same allow-list (test/infra/rtp-ingest).
      expect.objectContaining({ CidrIp: ENCODERS, IpProtocol: 'udp', FromPort: 5004, ToPort: 5004 }),
    ]);
  });

  it('scales tasks in steps on the share of NVENC session slots in use, between min and max', () => {
    platform.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 3,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    platform.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ChangeInCapacity' }),
    });
    platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRIC_NAMESPACE,
      MetricName: MetricNames.ingest.sessionUtilization,
      // Powertools adds `service` from its serviceName: the dimension set must match what the tasks emit.
      Dimensions: Match.arrayEquals([
        { Name: 'Stage', Value: 'dev' },
        { Name: 'service', Value: 'ingest' },
      ]),
    });
  });

  it('lets a publishing task protect itself from scale-in, on tasks of its own cluster only', () => {
    platform.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
            Resource: Match.objectLike({
              'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('IngestCluster') }])],
            }),
          }),
        ]),
      },
    });
  });
});

describe('functions', () => {
  it.each(['manifest', 'session', 'control'])('%s runs Node 22 on ARM64 in the VPC', (service) => {
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: service,
          POWERTOOLS_METRICS_NAMESPACE: 'Mirror',
          MIRROR_STAGE: 'dev',
          // D47, amended: no --enable-source-maps (its cost lands in every cold start); the logger maps stacks.
          NODE_OPTIONS: Match.absent(),
          MIRROR_REDIS_URL: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['rediss://'])] }),
          MIRROR_REDIS_USER: Match.anyValue(),
          MIRROR_REDIS_IAM_GROUP: Match.anyValue(),
        }),
      },
    });
  });

  it('bundles each function as minified ESM with a source map (local esbuild, no Docker)', () => {
    const manifest = JSON.parse(readFileSync(join(app.outdir, `${platformId}.assets.json`), 'utf8'));
    for (const service of ['manifest', 'session', 'control']) {
      const code = platform.findResources('AWS::Lambda::Function')[fn(service)]!.Properties.Code;
      const key = String(code.S3Key).replace('.zip', '');
      const dir = join(app.outdir, manifest.files[key].source.path);
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(statSync(join(dir, 'index.mjs.map')).size).toBeGreaterThan(0);
      // Minified: long lines, not one statement per line.
      expect(bundle.length / Math.max(1, bundle.split('\n').length)).toBeGreaterThan(200);
    }
  });

  it('gives the manifest function read-only media access', () => {
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'manifest',
          MIRROR_STORAGE: 's3',
          MIRROR_BUCKET: Match.anyValue(),
        }),
      },
    });
    const role = platform.findResources('AWS::IAM::Role')[roleOf(fn('manifest'))]!;
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toMatch(/MediaStorageReadMedia/);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).not.toMatch(/WriteMedia/);
  });

  it('gives the session secret to the session function only: the manifest function never reads it', () => {
    const secret = logicalIdOf('AWS::SecretsManager::Secret', {
      Description: 'Mirror playback session token HMAC key',
    });
    const variables = (service: string) =>
      platform.findResources('AWS::Lambda::Function')[fn(service)]!.Properties.Environment.Variables;
    const readsSecret = (service: string) =>
      statementsOf(roleOf(fn(service))).some((st) => JSON.stringify(st.Resource ?? '').includes(secret));
    expect(variables('session').MIRROR_SESSION_SECRET_ARN).toEqual({ Ref: secret });
    expect(readsSecret('session')).toBe(true);
    expect(variables('manifest').MIRROR_SESSION_SECRET_ARN).toBeUndefined();
    expect(readsSecret('manifest')).toBe(false);
  });

  it('exposes the manifest function through a URL that requires IAM (CloudFront OAC signs)', () => {
    platform.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fn('manifest'), 'Arn'] },
    });
  });

  it('lets the control function UpdateService/DescribeServices on the ingest service only', () => {
    const service = Object.keys(platform.findResources('AWS::ECS::Service'))[0]!;
    expect(statementsOf(roleOf(fn('control')))).toContainEqual(
      expect.objectContaining({
        Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
        Resource: { Ref: service },
      }),
    );
  });

  it('lets the control function CreateInvalidation on this distribution only', () => {
    const dist = Object.keys(platform.findResources('AWS::CloudFront::Distribution'))[0]!;
    expect(statementsOf(roleOf(fn('control')))).toContainEqual(
      expect.objectContaining({
        Action: 'cloudfront:CreateInvalidation',
        Resource: distributionArn(':distribution/', { Ref: dist }),
      }),
    );
  });

  it('grants the control function no wildcard resource', () => {
    for (const statement of statementsOf(roleOf(fn('control')))) {
      expect([statement.Resource].flat()).not.toContain('*');
    }
  });

  it('tells the control function which service and distribution it manages', () => {
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'control',
          MIRROR_ECS_CLUSTER: Match.anyValue(),
          MIRROR_ECS_SERVICE: Match.anyValue(),
          MIRROR_DISTRIBUTION_ID: Match.anyValue(),
          MIRROR_MIN_TASKS: '1',
          MIRROR_MAX_TASKS: '3',
        }),
      },
    });
  });

  it('tells the control function the SRT endpoint (the NLB) it hands to operators', () => {
    const host = new Capture();
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'control',
          MIRROR_SRT_HOST: host,
          MIRROR_SRT_PORT: '9000',
        }),
      },
    });
    expect(JSON.stringify(host.asObject())).toContain('IngestLoadBalancer');
  });

  it('admits the functions and the ingest tasks, and nothing else, to Redis', () => {
    const rules = Object.values(platform.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) =>
      JSON.stringify(r.Properties.GroupId).includes('LiveStateSecurityGroup'),
    );
    const sources = rules.map((r) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).sort();
    expect(sources).toHaveLength(5);
    expect(sources.filter((s: string) => /^Api(Manifest|Session|Control)SecurityGroup/.test(s))).toHaveLength(
      3,
    );
    // The operator events function (D44), as its own Redis user.
    expect(sources.filter((s: string) => /^OperatorEventsFunctionSecurityGroup/.test(s))).toHaveLength(1);
    expect(sources.filter((s: string) => /^IngestTaskSecurityGroup/.test(s))).toHaveLength(1);
    for (const r of rules)
      expect(r.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 6380, ToPort: 6380 });
  });
});

describe('HTTP API', () => {
  it.each(['ANY /api/control', 'ANY /api/control/{proxy+}'])(
    'requires IAM authorization on %s',
    (routeKey) => {
      platform.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'AWS_IAM',
      });
    },
  );

  it.each(['ANY /api/sessions', 'ANY /api/sessions/{proxy+}'])('leaves %s public for viewers', (routeKey) => {
    platform.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'NONE',
    });
  });

  it('logs access on its default stage', () => {
    platform.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });
});

describe('delivery', () => {
  it('speaks HTTP/2 and HTTP/3', () => {
    expect(distribution().HttpVersion).toBe('http2and3');
  });

  it('serves every behaviour over HTTPS only', () => {
    const d = distribution();
    for (const b of [d.DefaultCacheBehavior, ...d.CacheBehaviors])
      expect(b.ViewerProtocolPolicy).toBe('https-only');
  });

  it('requires TLS 1.2 or later on the custom domain', () => {
    expect(distribution().ViewerCertificate).toEqual({
      AcmCertificateArn: CERT,
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    expect(distribution().Aliases).toEqual(['live.example.com']);
  });

  it('keys playlists on exactly _HLS_msn, _HLS_part, _HLS_skip and the freshness bucket, honouring the origin Cache-Control', () => {
    const policyId = behaviour('*.m3u8').CachePolicyId.Ref;
    const query = new Capture();
    const policy = platform.findResources('AWS::CloudFront::CachePolicy')[policyId]!;
    expect(policy).toBeDefined();
    platform.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        Name: policy.Properties.CachePolicyConfig.Name,
        MinTTL: 0,
        DefaultTTL: 1,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: query },
          HeadersConfig: { HeaderBehavior: 'none' },
          CookiesConfig: { CookieBehavior: 'none' },
        }),
      }),
    });
    expect([...query.asArray()].sort()).toEqual([...PLAYLIST_CACHE_KEY_QUERY, FRESHNESS_QUERY].sort());
  });

  it('sends playlists to the manifest function URL through origin access control', () => {
    const o = origin(behaviour('*.m3u8').TargetOriginId);
    expect(JSON.stringify(o.DomainName)).toMatch(/ApiManifestFunctionFunctionUrl/);
    platform.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 'lambda',
        SigningBehavior: 'always',
      }),
    });
    expect(o.OriginAccessControlId['Fn::GetAtt'][0]).toMatch(/ManifestAccess/);
  });

  it.each(['*/part-*.m4s', '*.m4s', '*.mp4'])(
    'caches %s long, without query strings, headers or cookies',
    (pattern) => {
      const policyId = behaviour(pattern).CachePolicyId.Ref;
      const policy = platform.findResources('AWS::CloudFront::CachePolicy')[policyId]!.Properties
        .CachePolicyConfig;
      expect(policy).toMatchObject({
        DefaultTTL: 86_400,
        MaxTTL: 31_536_000,
        ParametersInCacheKeyAndForwardedToOrigin: {
          QueryStringsConfig: { QueryStringBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          CookiesConfig: { CookieBehavior: 'none' },
        },
      });
    },
  );

  it.each(['*.m4s', '*.mp4'])('serves %s (segments, init segments) from S3 through OAC alone', (pattern) => {
    const target = behaviour(pattern).TargetOriginId;
    expect(distribution().OriginGroups).toBeUndefined();
    const o = origin(target);
    expect(JSON.stringify(o.DomainName)).toMatch(/MediaStorageMedia.*RegionalDomainName/);
    expect(o.OriginAccessControlId['Fn::GetAtt'][0]).toMatch(/S3OriginAccessControl/);
  });

  it.each(['*/part-*.m4s'])(
    'serves %s from the manifest function URL through OAC alone (parts are in Redis, D33)',
    (pattern) => {
      const o = origin(behaviour(pattern).TargetOriginId);
      expect(JSON.stringify(o.DomainName)).toMatch(/ApiManifestFunctionFunctionUrl/);
      expect(o.OriginAccessControlId['Fn::GetAtt'][0]).toMatch(/ManifestAccess/);
      expect(distribution().OriginGroups).toBeUndefined();
    },
  );

  it('puts Origin Shield in the stack region in front of media and playlists', () => {
    for (const pattern of ['*.m3u8', '*/part-*.m4s', '*.m4s']) {
      const target = behaviour(pattern).TargetOriginId;
      expect(origin(target).OriginShield).toEqual({
        Enabled: true,
        OriginShieldRegion: { Ref: 'AWS::Region' },
      });
    }
  });

  it('sends /api/* to API Gateway uncached, with all viewer headers except Host', () => {
    const b = behaviour('/api/*');
    expect(b.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // Managed-CachingDisabled
    expect(b.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // Managed-AllViewerExceptHostHeader
    expect(b.AllowedMethods).toEqual(expect.arrayContaining(['POST', 'PUT', 'DELETE', 'PATCH']));
    expect(JSON.stringify(origin(b.TargetOriginId).DomainName)).toMatch(/ApiHttp.*ApiEndpoint/);
  });

  it('serves the web app from its own bucket as the default behaviour', () => {
    const o = origin(distribution().DefaultCacheBehavior.TargetOriginId);
    expect(JSON.stringify(o.DomainName)).toMatch(/DeliveryWeb/);
    platform.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: Match.stringLikeRegexp('DeliveryWeb') },
    });
  });

  it('caches 4xx and 5xx answers for about a second', () => {
    const errors = distribution().CustomErrorResponses;
    for (const code of [403, 404, 500, 502, 503, 504]) {
      expect(errors).toContainEqual({ ErrorCode: code, ErrorCachingMinTTL: 1 });
    }
  });

  it('adds CORS and security headers to every behaviour', () => {
    const d = distribution();
    // One policy on the media, playlist and API behaviours; the pages' adds their CSP (test/infra/edges.test.ts).
    const policy = d.CacheBehaviors[0].ResponseHeadersPolicyId;
    for (const b of d.CacheBehaviors) expect(b.ResponseHeadersPolicyId).toEqual(policy);
    expect(d.DefaultCacheBehavior.ResponseHeadersPolicyId).not.toEqual(policy);
    platform.resourceCountIs('AWS::CloudFront::ResponseHeadersPolicy', 2);
    platform.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        CorsConfig: Match.objectLike({
          AccessControlAllowOrigins: { Items: ['*'] },
          AccessControlAllowMethods: { Items: ['GET', 'HEAD', 'OPTIONS'] },
        }),
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 63_072_000 }),
          ContentTypeOptions: { Override: true },
        }),
      }),
    });
  });

  it('restricts viewers to the configured countries', () => {
    expect(distribution().Restrictions).toEqual({
      GeoRestriction: { RestrictionType: 'whitelist', Locations: ['DE', 'AT'] },
    });
  });

  it('writes access logs to the log bucket', () => {
    expect(distribution().Logging.Prefix).toBe('cloudfront/');
    expect(JSON.stringify(distribution().Logging.Bucket)).toMatch(/MediaStorageLogs.*RegionalDomainName/);
  });
});

describe('playback protection (on)', () => {
  const kvsId = () => onlyResource(platform, 'AWS::CloudFront::KeyValueStore').logicalId;
  const checkId = () =>
    logicalIdOf('AWS::CloudFront::Function', {
      FunctionConfig: Match.objectLike({
        KeyValueStoreAssociations: Match.anyValue(),
        Comment: Match.stringLikeRegexp('^Check the stream playback token \\(cookie'),
      }),
    });
  // Playlists: one function per behaviour, so the check runs inside the freshness function (D31).
  const playlistId = () =>
    logicalIdOf('AWS::CloudFront::Function', {
      FunctionConfig: Match.objectLike({
        KeyValueStoreAssociations: Match.anyValue(),
        Comment: Match.stringLikeRegexp('bucket'),
      }),
    });

  it('runs the token check as a cloudfront-js-2.0 function with the KeyValueStore attached', () => {
    const fnProps = platform.findResources('AWS::CloudFront::Function')[checkId()]!.Properties as Json;
    expect(fnProps.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fnProps.FunctionConfig.KeyValueStoreAssociations).toEqual([
      { KeyValueStoreARN: { 'Fn::GetAtt': [kvsId(), 'Arn'] } },
    ]);
    // The source reads that same store (its id, resolved at deploy) under the key the operator fills.
    const code = JSON.stringify(fnProps.FunctionCode);
    expect(code).toContain("cf.kvs('");
    expect(code).toContain(JSON.stringify({ 'Fn::GetAtt': [kvsId(), 'Id'] }));
    expect(code).toContain('playback-key-');
    expect(code).not.toContain('placeholder');
  });

  it.each(['*.m4s', '*.mp4'])('checks the token on viewer requests for %s', (pattern) => {
    expect(behaviour(pattern).FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [checkId(), 'FunctionARN'] } },
    ]);
  });

  it('checks the token, then sets the freshness bucket, on viewer requests for *.m3u8', () => {
    expect(behaviour('*.m3u8').FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [playlistId(), 'FunctionARN'] } },
    ]);
    const fnProps = platform.findResources('AWS::CloudFront::Function')[playlistId()]!.Properties as Json;
    expect(fnProps.FunctionConfig.KeyValueStoreAssociations).toEqual([
      { KeyValueStoreARN: { 'Fn::GetAtt': [kvsId(), 'Arn'] } },
    ]);
    const code = JSON.stringify(fnProps.FunctionCode);
    expect(code).toContain('playback-key-');
    expect(code).toContain(FRESHNESS_QUERY);
    expect(code).not.toContain('placeholder');
  });

  it('leaves /api/* and the web app alone', () => {
    expect(behaviour('/api/*').FunctionAssociations).toBeUndefined();
    const web = distribution().DefaultCacheBehavior.FunctionAssociations as Json[];
    expect(web.map((a) => a.FunctionARN['Fn::GetAtt'][0])).not.toContain(checkId());
  });

  it('has the session function issue tokens, and keeps the secret out of the template', () => {
    const env = (service: string) =>
      platform.findResources('AWS::Lambda::Function')[fn(service)]!.Properties.Environment.Variables;
    expect(env('session').MIRROR_PLAYBACK_PROTECTION).toBe('on');
    expect(env('manifest').MIRROR_PLAYBACK_PROTECTION).toBeUndefined();
    const store = onlyResource(platform, 'AWS::CloudFront::KeyValueStore').properties;
    expect(store.ImportSource).toBeUndefined();
    // No dynamic reference to the key ring anywhere (the origin-verify header's is D39's business).
    expect(JSON.stringify(platform.toJSON())).not.toMatch(
      /resolve:secretsmanager:[^{}]*\{"Ref":"PlaybackKeysRing/,
    );
  });

  it('outputs the key ring (no manual copy step any more: the deployment fills the store, D37)', () => {
    const outputs = platform.toJSON().Outputs;
    expect(JSON.stringify(outputs.PlaybackKeyRingArn.Value)).toMatch(/PlaybackKeysRing/);
    expect(outputs.PlaybackKeyValueStoreArn).toBeUndefined();
  });
});

describe('observability', () => {
  it('graphs per-stream metrics with SEARCH over StreamId (one line per stream)', () => {
    const body = JSON.stringify(
      onlyResource(platform, 'AWS::CloudWatch::Dashboard').properties.DashboardBody,
    );
    for (const name of ['IngestBitrate', 'SrtLossPercent', 'SrtRttMs', 'TranscoderSpeed']) {
      expect(body).toMatch(
        new RegExp(
          `SEARCH\\('\\{Mirror,service,Stage,StreamId\\} MetricName=[\\\\"]+${name}[\\\\"]+ Stage=[\\\\"]+dev`,
        ),
      );
    }
  });

  it('draws every listed signal on the dashboard', () => {
    const body = JSON.stringify(
      onlyResource(platform, 'AWS::CloudWatch::Dashboard').properties.DashboardBody,
    );
    for (const name of [
      ...Object.values(MetricNames.ingest).filter((n) => n !== MetricNames.ingest.streamDown),
      ...Object.values(MetricNames.manifest),
      '4xx',
      '5xx',
      '5xxErrorRate',
      'TotalErrorRate',
      'EngineCPUUtilization',
      'DatabaseMemoryUsagePercentage',
    ]) {
      // The body is JSON inside a JSON string (SEARCH expressions one level deeper): match the name as a token.
      expect(body, name).toMatch(new RegExp(`[^A-Za-z0-9]${name}[^A-Za-z0-9]`));
    }
  });

  it('alarms when any stream of the stage goes down (summed over StreamId), into the SNS topic', () => {
    const topic = Object.keys(platform.findResources('AWS::SNS::Topic'))[0]!;
    platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: topic }],
      Metrics: [
        Match.objectLike({
          Expression: `SELECT SUM(StreamDown) FROM SCHEMA("Mirror", service, Stage, StreamId) WHERE Stage = 'dev'`,
        }),
      ],
    });
  });

  it('alarms when p99 part publish latency exceeds three of the shortest part durations, into the SNS topic', () => {
    const topic = Object.keys(platform.findResources('AWS::SNS::Topic'))[0]!;
    platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 3 * SHORTEST_PART_TARGET_MS,
      AlarmActions: [{ Ref: topic }],
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Namespace: 'Mirror',
              MetricName: MetricNames.ingest.partPublishLatencyMs,
              Dimensions: Match.arrayEquals([
                { Name: 'Stage', Value: 'dev' },
                { Name: 'service', Value: 'ingest' },
              ]),
            }),
            Stat: 'p99',
          }),
        }),
      ],
    });
  });

  it.each([
    ['5xx rate', /Url5xxCount/],
    ['Redis memory', /DatabaseMemoryUsagePercentage/],
  ])('alarms on the %s (metric math) into the SNS topic', (_, metric) => {
    const topic = Object.keys(platform.findResources('AWS::SNS::Topic'))[0]!;
    const alarms = Object.values(platform.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      metric.test(JSON.stringify(a.Properties.Metrics ?? [])),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('subscribes the alarm e-mail to the topic', () => {
    platform.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('outputs', () => {
  it('gives the SRT ingest endpoint, playback base URL, viewer URL and control API URL', () => {
    const outputs = platform.toJSON().Outputs;
    expect(JSON.stringify(outputs.SrtIngestEndpoint.Value)).toMatch(/srt:\/\/.*DNSName.*:9000/);
    expect(outputs.PlaybackBaseUrl.Value).toBe('https://live.example.com');
    expect(outputs.ViewerUrl.Value).toBe('https://live.example.com/');
    expect(JSON.stringify(outputs.ControlApiUrl.Value)).toMatch(/ApiEndpoint.*\/api\/control\//);
  });
});
