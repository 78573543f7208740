import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ORIGIN_VERIFY_HEADER } from '../../core/contracts/origin-verify.js';
import { pageContentSecurityPolicy } from '../../core/contracts/security-headers.js';
import { ConfigError, loadStageConfig } from '../../infra/config.js';
import { onlyResource, synthStage } from './synth.js';

// The edges of a stage (D39): how the API, the media bucket and the pages are reached, and only that way.

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const VERSION = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const API_CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const plain = synthStage('dev');
const custom = synthStage('dev', {
  delivery: {
    apiDomain: { domainName: 'api-origin.example.com', certificateArn: API_CERT },
    originVerifyVersion: VERSION,
  },
});

const distributionOf = (s: typeof plain) =>
  onlyResource(s.platform, 'AWS::CloudFront::Distribution').properties.DistributionConfig as Json;
const apiOrigin = (s: typeof plain) => {
  const d = distributionOf(s);
  const api = d.CacheBehaviors.find((b: Json) => b.PathPattern === '/api/*');
  return d.Origins.find((o: Json) => o.Id === api.TargetOriginId);
};
const functionsBy = (s: typeof plain, service: string) =>
  Object.entries(s.platform.findResources('AWS::Lambda::Function')).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  );
const secretId = (s: typeof plain) =>
  Object.keys(s.platform.findResources('AWS::SecretsManager::Secret')).find((id) => /OriginVerify/.test(id))!;

describe('the API answers CloudFront only', () => {
  it('keeps the secret origin header value out of the template: CloudFormation resolves it at deploy', () => {
    const id = secretId(plain);
    plain.platform.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}', GenerateStringKey: 'current' }),
    });
    const headers = apiOrigin(plain).OriginCustomHeaders;
    expect(headers).toEqual([
      {
        HeaderName: ORIGIN_VERIFY_HEADER,
        HeaderValue: {
          'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: id }, ':SecretString:current::}}']],
        },
      },
    ]);
  });

  it('gives the session function the secret to check, and the control function nothing of it', () => {
    const [[, session]] = functionsBy(plain, 'session') as [[string, Json]];
    expect(session.Properties.Environment.Variables.MIRROR_ORIGIN_VERIFY_SECRET_ARN).toEqual({
      Ref: secretId(plain),
    });
    expect(session.Properties.Environment.Variables.MIRROR_ORIGIN_VERIFY_VERSION).toBeUndefined();
    const [[, control]] = functionsBy(plain, 'control') as [[string, Json]];
    expect(control.Properties.Environment.Variables.MIRROR_ORIGIN_VERIFY_SECRET_ARN).toBeUndefined();
    const sessionRole = session.Properties.Role['Fn::GetAtt'][0];
    const reads = Object.values(plain.platform.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${sessionRole}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: Json) => [st.Resource].flat().some((r: Json) => r?.Ref === secretId(plain)));
    expect(reads.flatMap((st: Json) => st.Action)).toContain('secretsmanager:GetSecretValue');
    const controlRole = control.Properties.Role['Fn::GetAtt'][0];
    const controlPolicies = Object.values(plain.platform.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${controlRole}"`),
    );
    expect(JSON.stringify(controlPolicies)).not.toContain(secretId(plain));
  });

  it('leaves the manifest function URL to CloudFront alone: IAM auth, invoke permission for this distribution', () => {
    // The manifest's; the operator events' URL (D44) is checked in test/infra/operator-events.test.ts.
    const url = Object.values(plain.platform.findResources('AWS::Lambda::Url')).find((u) =>
      JSON.stringify(u.Properties.TargetFunctionArn).includes('ApiManifest'),
    )!.Properties;
    expect(url.AuthType).toBe('AWS_IAM');
    const distributionId = onlyResource(plain.platform, 'AWS::CloudFront::Distribution').logicalId;
    const invokers = Object.values(plain.platform.findResources('AWS::Lambda::Permission')).filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName) === JSON.stringify(url.TargetFunctionArn) ||
        JSON.stringify(p.Properties.FunctionName).includes('FunctionUrl'),
    );
    expect(invokers.length).toBeGreaterThan(0);
    for (const p of invokers) {
      expect(p.Properties.Principal).toBe('cloudfront.amazonaws.com');
      expect(JSON.stringify(p.Properties.SourceArn)).toContain(`{"Ref":"${distributionId}"}`);
    }
  });

  it('without an API domain, keeps the execute-api endpoint (the only way CloudFront can reach the API)', () => {
    plain.platform.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    plain.platform.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    expect(JSON.stringify(apiOrigin(plain).DomainName)).toContain('ApiEndpoint');
  });

  it('with an API domain, disables execute-api and sends CloudFront and SigV4 callers to the domain', () => {
    custom.platform.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    custom.platform.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api-origin.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: API_CERT, EndpointType: 'REGIONAL' })],
    });
    custom.platform.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: '$default' });
    expect(JSON.stringify(apiOrigin(custom).DomainName)).not.toContain('ApiEndpoint');
    const outputs = custom.platform.toJSON().Outputs as Record<string, Json>;
    expect(JSON.stringify(outputs.ControlApiUrl.Value)).toContain('/api/control/');
    expect(JSON.stringify(outputs.ControlApiUrl.Value)).not.toContain('ApiEndpoint');
    expect(Object.keys(outputs).some((k) => /ApiDomainTarget/.test(k))).toBe(true);
  });

  it('on a rotation, pins the header to the named secret version and starts fresh session instances', () => {
    const value = JSON.stringify(apiOrigin(custom).OriginCustomHeaders[0].HeaderValue);
    expect(value).toContain(`:SecretString:current::${VERSION}}}`);
    const [[, session]] = functionsBy(custom, 'session') as [[string, Json]];
    expect(session.Properties.Environment.Variables.MIRROR_ORIGIN_VERIFY_VERSION).toBe(VERSION);
  });
});

describe('the stage config', () => {
  it('names the field at fault in an API domain or a secret version', () => {
    const bad = (delivery: unknown) => () => loadStageConfig('dev', { delivery });
    expect(bad({ apiDomain: { domainName: 'api.example.com' } })).toThrow(
      /delivery\.apiDomain\.certificateArn/,
    );
    expect(bad({ apiDomain: { domainName: 'API', certificateArn: API_CERT } })).toThrow(
      /delivery\.apiDomain\.domainName: must be a lowercase DNS name/,
    );
    expect(bad({ originVerifyVersion: 'v2' })).toThrow(
      /delivery\.originVerifyVersion: must be a Secrets Manager VersionId/,
    );
    expect(bad({ originVerifyVersion: 'v2' })).toThrow(ConfigError);
  });
});

describe("the media bucket's policy names this stage's distribution", () => {
  const mediaBucketId = () =>
    Object.keys(plain.data.findResources('AWS::S3::Bucket')).find((id) => /MediaStorageMedia/.test(id))!;

  it('leaves the data stack without a media bucket policy (one policy per bucket, written by the platform stack)', () => {
    const policies = Object.values(plain.data.findResources('AWS::S3::BucketPolicy'));
    expect(policies.map((p) => JSON.stringify(p.Properties.Bucket))).not.toContain(
      JSON.stringify({ Ref: mediaBucketId() }),
    );
  });

  it('allows OAC reads from exactly this distribution, and denies requests without TLS', () => {
    const distributionId = onlyResource(plain.platform, 'AWS::CloudFront::Distribution').logicalId;
    const media = Object.values(plain.platform.findResources('AWS::S3::BucketPolicy')).filter((p) =>
      /ImportValue.*MediaStorageMedia/.test(JSON.stringify(p.Properties.Bucket)),
    );
    expect(media).toHaveLength(1);
    const properties = media[0]!.Properties;
    const statements = (properties.PolicyDocument as Json).Statement as Json[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    const read = statements.find((s) => s.Sid === 'AllowCloudFrontOacRead');
    expect(read).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
    });
    expect(read.Condition).toEqual({
      StringEquals: {
        'AWS:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudfront::',
              { Ref: 'AWS::AccountId' },
              ':distribution/',
              { Ref: distributionId },
            ],
          ],
        },
      },
    });
  });
});

describe('security headers', () => {
  const policies = plain.platform.findResources('AWS::CloudFront::ResponseHeadersPolicy');
  const policyOf = (behaviour: Json) =>
    policies[behaviour.ResponseHeadersPolicyId.Ref]!.Properties.ResponseHeadersPolicyConfig;

  it("puts the pages' Content-Security-Policy on the page behaviour only", () => {
    const d = distributionOf(plain);
    const csp = policyOf(d.DefaultCacheBehavior).SecurityHeadersConfig.ContentSecurityPolicy;
    expect(csp.Override).toBe(true);
    // The operator sign-in's Cognito domain is the one origin added to connect-src.
    const rendered = JSON.stringify(csp.ContentSecurityPolicy);
    const [before, after] = pageContentSecurityPolicy().split("connect-src 'self'");
    expect(rendered).toContain(`${before}connect-src 'self' https://`);
    expect(rendered).toContain('.auth.');
    expect(rendered).toContain(after);
    for (const b of d.CacheBehaviors) {
      expect(policyOf(b).SecurityHeadersConfig.ContentSecurityPolicy, b.PathPattern).toBeUndefined();
      expect(policyOf(b).SecurityHeadersConfig.StrictTransportSecurity).toEqual(
        policyOf(d.DefaultCacheBehavior).SecurityHeadersConfig.StrictTransportSecurity,
      );
    }
  });
});
