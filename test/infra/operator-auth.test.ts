import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadStageConfig } from '../../infra/config.js';
import { onlyResource, synthStage } from './synth.js';

/** Synthesized CloudFormation JSON, read by path in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

// Operator sign-in on AWS (decision D12): dev (MFA optional) with a custom domain, and prod (MFA required).
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-aaaa-bbbb-cccc-000000000000';
const dev = synthStage('dev', {
  delivery: { domainNames: ['live.example.com'], certificateArn: CERT },
}).platform;
const prod = synthStage('prod', { operators: { domainPrefix: 'mirror-ops-prod' } }).platform;

const pool = (t = dev) => onlyResource(t, 'AWS::Cognito::UserPool');
const client = () => onlyResource(dev, 'AWS::Cognito::UserPoolClient').properties as Json;
const routeByKey = (key: string) =>
  Object.values(dev.findResources('AWS::ApiGatewayV2::Route')).find(
    (r: Json) => r.Properties.RouteKey === key,
  ) as Json;

describe('operator user pool', () => {
  it('admits only admin-created operators, with a strong password policy', () => {
    const p = pool().properties as Json;
    expect(p.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(p.Policies.PasswordPolicy).toEqual(
      expect.objectContaining({
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
      }),
    );
    expect(p.Policies.PasswordPolicy.MinimumLength).toBeGreaterThanOrEqual(14);
    expect(p.AccountRecoverySetting.RecoveryMechanisms).toEqual([{ Name: 'verified_email', Priority: 1 }]);
  });

  it('runs threat protection in full-function mode on the Plus tier', () => {
    const p = pool().properties as Json;
    expect(p.UserPoolTier).toBe('PLUS');
    expect(p.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
  });

  it('takes MFA (TOTP only) as the stage configures it: optional in dev, required in prod', () => {
    expect((pool().properties as Json).MfaConfiguration).toBe('OPTIONAL');
    expect((pool(prod).properties as Json).MfaConfiguration).toBe('ON');
    expect((pool(prod).properties as Json).EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
  });

  it('keeps prod operators through a stack deletion; dev pools go with the stack', () => {
    expect(prod.findResources('AWS::Cognito::UserPool')[pool(prod).logicalId]!.DeletionPolicy).toBe('Retain');
    expect((pool(prod).properties as Json).DeletionProtection).toBe('ACTIVE');
    expect(dev.findResources('AWS::Cognito::UserPool')[pool().logicalId]!.DeletionPolicy).toBe('Delete');
  });

  it('has a Hosted UI domain, prefixed mirror-<stage>-<account> unless configured', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['mirror-dev-', { Ref: 'AWS::AccountId' }]] },
      UserPoolId: { Ref: pool().logicalId },
    });
    prod.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'mirror-ops-prod' });
  });
});

describe('operator page app client', () => {
  it('is a public client: authorization code only (PKCE), no secret, Cognito users only', () => {
    const c = client();
    expect(c.GenerateSecret).toBe(false);
    expect(c.AllowedOAuthFlows).toEqual(['code']);
    expect(c.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(c.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid']));
    expect(c.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(c.PreventUserExistenceErrors).toBe('ENABLED');
    expect(c.ExplicitAuthFlows ?? []).not.toContain('ALLOW_USER_PASSWORD_AUTH');
  });

  it('calls back to /operator/ on the distribution domain and on every custom domain', () => {
    const c = client();
    const distribution = onlyResource(dev, 'AWS::CloudFront::Distribution').logicalId;
    const expected = [
      { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, '/operator/']] },
      'https://live.example.com/operator/',
    ];
    expect(c.CallbackURLs).toEqual(expected);
    expect(c.LogoutURLs).toEqual(expected);
  });
});

describe('HTTP API authorizers', () => {
  it('checks operator tokens with a JWT authorizer: issuer = the pool, audience = the page client', () => {
    const authorizer = onlyResource(dev, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.properties).toEqual(
      expect.objectContaining({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: { 'Fn::GetAtt': [pool().logicalId, 'ProviderURL'] },
          Audience: [{ Ref: onlyResource(dev, 'AWS::Cognito::UserPoolClient').logicalId }],
        },
      }),
    );
    for (const key of ['ANY /api/operator', 'ANY /api/operator/{proxy+}']) {
      const route = routeByKey(key);
      expect(route, key).toBeDefined();
      expect(route.Properties.AuthorizationType).toBe('JWT');
      expect(route.Properties.AuthorizerId).toEqual({ Ref: authorizer.logicalId });
    }
  });

  it('sends operator and control routes to the same control function; control stays IAM', () => {
    const control = routeByKey('ANY /api/control/{proxy+}');
    expect(control.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(routeByKey('ANY /api/control').Properties.AuthorizationType).toBe('AWS_IAM');
    expect(routeByKey('ANY /api/operator/{proxy+}').Properties.Target).toEqual(control.Properties.Target);
  });
});

describe('CloudFront and the web app', () => {
  const distribution = () =>
    onlyResource(dev, 'AWS::CloudFront::Distribution').properties.DistributionConfig as Json;
  /** CloudFront picks the first behaviour in order whose pattern matches (`*` any characters). */
  const behaviourFor = (path: string) =>
    distribution().CacheBehaviors.find((b: Json) =>
      new RegExp(`^${b.PathPattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(path),
    );

  it('routes /api/operator/* to the HTTP API uncached, forwarding Authorization', () => {
    for (const path of ['/api/operator/streams', '/api/operator/streams/cam-1/rotate']) {
      const b = behaviourFor(path);
      const origin = distribution().Origins.find((o: Json) => o.Id === b.TargetOriginId);
      expect(JSON.stringify(origin.DomainName)).toMatch(/ApiHttp.*ApiEndpoint/);
      expect(b.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // Managed-CachingDisabled
      // AllViewerExceptHostHeader forwards Authorization when caching is disabled.
      expect(b.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
      expect(b.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
      expect(behaviourFor('/api/control/streams')).toBe(b);
    }
  });

  it('deploys /operator/config.json with the Hosted UI, client id and /api/operator', () => {
    const deployment = onlyResource(dev, 'Custom::CDKBucketDeployment').properties as Json;
    const markers = JSON.stringify(deployment.SourceMarkers);
    expect(markers).toContain(onlyResource(dev, 'AWS::Cognito::UserPoolDomain').logicalId);
    expect(markers).toContain(onlyResource(dev, 'AWS::Cognito::UserPoolClient').logicalId);
    expect(deployment.DistributionPaths).toContain('/operator/*');
  });

  it('outputs the operator page, the Hosted UI URL and the user pool id', () => {
    const outputs = dev.toJSON().Outputs;
    expect(outputs.OperatorPageUrl.Value).toBe('https://live.example.com/operator/');
    expect(JSON.stringify(outputs.OperatorHostedUiUrl.Value)).toMatch(/auth.*amazoncognito\.com/);
    expect(outputs.OperatorUserPoolId.Value).toEqual({ Ref: pool().logicalId });
    dev.hasOutput('OperatorUserPoolId', { Description: Match.stringLikeRegexp('admin-create-user') });
  });
});

describe('operators configuration', () => {
  it('defaults to optional MFA in dev and required in prod', () => {
    expect(loadStageConfig('dev').operators).toEqual({ mfa: 'optional' });
    expect(loadStageConfig('prod').operators).toEqual({ mfa: 'required' });
  });

  it('names the field for a bad MFA setting or a domain prefix Cognito refuses', () => {
    expect(() => loadStageConfig('dev', { operators: { mfa: 'off' } })).toThrow(/operators\.mfa/);
    expect(() => loadStageConfig('dev', { operators: { domainPrefix: 'my-cognito-login' } })).toThrow(
      /operators\.domainPrefix: must not contain aws, amazon or cognito/,
    );
    expect(() => loadStageConfig('dev', { operators: { domainPrefix: 'Mirror_Ops' } })).toThrow(ConfigError);
  });
});
