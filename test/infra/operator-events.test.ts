import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATOR_EVENTS_PATH } from '../../core/contracts/api-paths.js';
import { accessString } from '../../core/contracts/redis-acl.js';
import { CONNECTION_LIFETIME_MS } from '../../core/events/operator-events.js';
import { distributionArn, synthStage } from './synth.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

// Decision D44: the operator events' push path on AWS: a response-streaming function URL that only the distribution
// may invoke (origin access control), its own uncached behaviour ahead of `/api/*`, and a Redis user that may only
// listen on the events channel. Synthesized with cdk-nag, as `cdk synth` does: an unacknowledged finding throws.
const result = synthStage('dev');
const { platform, data } = result;
const json = platform.toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> };
const resources = Object.entries(json.Resources);
const eventsFunctionId = resources.find(
  ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('OperatorEventsFunction'),
)![0];

describe('operator events on AWS (D44)', () => {
  it('streams from a function URL with IAM auth in RESPONSE_STREAM mode', () => {
    platform.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [eventsFunctionId, 'Arn'] },
      AuthType: 'AWS_IAM',
      InvokeMode: 'RESPONSE_STREAM',
    });
  });

  it('lets only this distribution invoke the URL (OAC signs CloudFront’s requests)', () => {
    const urlId = resources.find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Url' && r.Properties.TargetFunctionArn['Fn::GetAtt'][0] === eventsFunctionId,
    )![0];
    const distributionId = resources.find(([, r]) => r.Type === 'AWS::CloudFront::Distribution')![0];
    for (const action of ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction']) {
      platform.hasResourceProperties('AWS::Lambda::Permission', {
        Action: action,
        FunctionName: { 'Fn::GetAtt': [urlId, 'FunctionArn'] },
        Principal: 'cloudfront.amazonaws.com',
        SourceArn: distributionArn(':distribution/', { Ref: distributionId }),
      });
    }
    const distribution = resources.find(([, r]) => r.Type === 'AWS::CloudFront::Distribution')![1].Properties
      .DistributionConfig;
    const behaviour = distribution.CacheBehaviors.find((b: Json) => b.PathPattern === OPERATOR_EVENTS_PATH);
    const origin = distribution.Origins.find((o: Json) => o.Id === behaviour.TargetOriginId);
    expect(JSON.stringify(origin.DomainName)).toMatch(/OperatorEventsFunctionFunctionUrl/);
    expect(origin.OriginAccessControlId).toBeDefined();
    const oac = resources.find(
      ([id, r]) =>
        r.Type === 'AWS::CloudFront::OriginAccessControl' &&
        origin.OriginAccessControlId['Fn::GetAtt'][0] === id,
    )![1].Properties.OriginAccessControlConfig;
    expect(oac).toMatchObject({ OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always' });
    // Ahead of `/api/*` (first match wins), uncached (the managed CachingDisabled policy), never compressed.
    const order = distribution.CacheBehaviors.map((b: Json) => b.PathPattern);
    expect(order.indexOf(OPERATOR_EVENTS_PATH)).toBeLessThan(order.indexOf('/api/*'));
    expect(behaviour.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(behaviour.Compress).toBe(false);
    expect(behaviour.ViewerProtocolPolicy).toBe('https-only');
  });

  it('runs longer than a connection lives, with a concurrency ceiling, trusting the operator pool', () => {
    const fn = json.Resources[eventsFunctionId]!.Properties;
    expect(fn.Timeout * 1000).toBeGreaterThan(CONNECTION_LIFETIME_MS);
    expect(fn.Timeout).toBeLessThanOrEqual(900);
    expect(fn.ReservedConcurrentExecutions).toBeGreaterThan(0);
    const env = fn.Environment.Variables;
    // The user pool's issuer URL (https://cognito-idp.<region>.amazonaws.com/<pool id>), as /api/operator's authorizer.
    expect(JSON.stringify(env.MIRROR_OPERATOR_ISSUER)).toMatch(/OperatorAuthOperators/);
    // The pool, not its client (a cycle through the callback URLs): the pool must have the operator page alone.
    expect(env.MIRROR_OPERATOR_CLIENT_IDS).toBeUndefined();
    platform.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    expect(env.MIRROR_REDIS_USER).toBeDefined();
  });

  it('connects as its own Redis user: subscribe to the events channel, read the viewer counts, nothing else', () => {
    const users = Object.values(data.findResources('AWS::ElastiCache::User'));
    const events = users.find((u) => JSON.stringify(u.Properties.UserId).includes('events'));
    expect(events?.Properties.AccessString).toBe(accessString('events'));
    expect(accessString('events')).toBe(
      'on %R~mirror:streams %R~mirror:viewers:* &mirror:events -@all +subscribe +unsubscribe +zrange +zcount +multi ' +
        '+exec -@dangerous -scan -randomkey -keys +ping +info +client|setname',
    );
  });

  it('synthesizes with cdk-nag and no unacknowledged AwsSolutions finding', () => {
    expect(result.app.policyValidationBeta1.map((p) => p.name)).toContain('AwsSolutions');
    const report = JSON.parse(readFileSync(join(result.app.outdir, 'validation-report.json'), 'utf8'));
    expect(
      report.pluginReports.filter((r: { pluginName: string }) => r.pluginName === 'AwsSolutions'),
    ).toEqual([]);
  });
});
