import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Connections } from 'aws-cdk-lib/aws-ec2';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadStageConfig } from '../../infra/config.js';
import type { BindTarget } from '../../infra/constructs/binding.js';
import { ViewerAccess } from '../../infra/constructs/viewer-access/viewer-access.js';

// Decision D36: streams are private by default in prod; Mirror's entitlement key is a kept secret both functions read.

function target(stack: Stack, id: string): BindTarget {
  const fn = new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = () => {}'),
  });
  return {
    role: fn.role!,
    grantPrincipal: fn.grantPrincipal,
    addEnvironment: (name, value) => fn.addEnvironment(name, value),
    connections: new Connections(),
  };
}

describe('viewer access (D36)', () => {
  it('makes new streams private in prod and public in dev', () => {
    expect(loadStageConfig('prod').delivery.defaultVisibility).toBe('private');
    expect(loadStageConfig('dev').delivery.defaultVisibility).toBe('public');
    expect(() =>
      loadStageConfig('dev', { delivery: { entitlements: { jwksUrl: 'http://id.example/jwks' } } }),
    ).toThrow(/delivery.entitlements.jwksUrl/);
  });

  it('binds the default visibility, the retained key and the customer keys to the functions that read them', () => {
    const stack = new Stack(new App(), 'T');
    const access = new ViewerAccess(stack, 'ViewerAccess', {
      defaultVisibility: 'private',
      entitlements: { jwksUrl: 'https://id.example/.well-known/jwks.json', audience: 'mirror-prod' },
      retain: true,
    });
    access.bindControl(target(stack, 'Control'));
    access.bindSession(target(stack, 'Session'));
    const template = Template.fromStack(stack);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    const secret = { Ref: Match.stringLikeRegexp('ViewerAccessViewerTokenKey') };
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { MIRROR_DEFAULT_VISIBILITY: 'private', MIRROR_VIEWER_TOKEN_SECRET_ARN: secret },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          MIRROR_VIEWER_TOKEN_SECRET_ARN: secret,
          MIRROR_ENTITLEMENTS: JSON.stringify({
            jwksUrl: 'https://id.example/.well-known/jwks.json',
            audience: 'mirror-prod',
          }),
        },
      },
    });
    // Both functions may read the key (the session function derives the public half), nothing more.
    const reads = template.findResources('AWS::IAM::Policy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Resource: secret,
            }),
          ]),
        },
      },
    });
    expect(Object.keys(reads)).toHaveLength(2);
  });
});
