import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../infra/config.js';
import { type Synthesized, synthStage } from './synth.js';

const stages = Object.keys(STAGES);
const synthesized = new Map<string, Synthesized>();

/** Logical ids a resource refers to through Ref, Fn::GetAtt, Fn::Sub or DependsOn. */
function referencesOf(resource: Record<string, unknown>, ids: Set<string>): Set<string> {
  const out = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string' && ids.has(value)) out.add(value);
      else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(value) ? value[0] : String(value).split('.')[0];
        if (ids.has(target)) out.add(target);
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? value[0] : value;
        for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)/g)) if (ids.has(m[1]!)) out.add(m[1]!);
        visit(value);
      } else visit(value);
    }
  };
  visit(resource.Properties);
  for (const d of [resource.DependsOn ?? []].flat()) if (ids.has(String(d))) out.add(String(d));
  return out;
}

/** A dependency cycle among a template's resources (CloudFormation refuses those at deploy time), if any. */
function findCycle(template: { Resources: Record<string, Record<string, unknown>> }): string[] | undefined {
  const resources = template.Resources;
  const ids = new Set(Object.keys(resources));
  const edges = new Map([...ids].map((id) => [id, referencesOf(resources[id]!, ids)]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const dfs = (id: string): string[] | undefined => {
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id)!) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = dfs(next);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    if (!state.has(id)) {
      const cycle = dfs(id);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

describe.each(stages)('stage %s', (stage) => {
  it('synthesizes with no unacknowledged cdk-nag AwsSolutions error', () => {
    // App.synth throws ValidationFailed, listing each finding, when a rule reports an unacknowledged error.
    const result = synthStage(stage);
    synthesized.set(stage, result);
    expect(result.app.policyValidationBeta1.map((p) => p.name)).toContain('AwsSolutions');
    // The report lists failing plugins only.
    const report = JSON.parse(readFileSync(join(result.app.outdir, 'validation-report.json'), 'utf8'));
    expect(
      report.pluginReports.filter((r: { pluginName: string }) => r.pluginName === 'AwsSolutions'),
    ).toEqual([]);
    // A full synthesis (bundling, image context staging, cdk-nag) takes 10-20 s; allow for a busy CI machine.
  }, 300_000);

  it('has no resource dependency cycle in any stack (CloudFormation would reject it at deploy)', () => {
    const { network, data, platform } = synthesized.get(stage)!;
    for (const template of [network, data, platform]) {
      expect(findCycle(template.toJSON() as Parameters<typeof findCycle>[0])).toBeUndefined();
    }
  });

  it('ships playback protection off in dev: no token check at the edge and no tokens from the session function', () => {
    const { platform } = synthesized.get(stage)!;
    // prod turns it on (D37): test/infra/playback-keys.test.ts.
    if (stage === 'prod') return;
    platform.resourceCountIs('AWS::CloudFront::KeyValueStore', 0);
    const edgeFunctions = Object.values(platform.findResources('AWS::CloudFront::Function'));
    // The directory index and the playlists' freshness bucket (D31): neither reads a KeyValueStore.
    expect(edgeFunctions.map((f) => f.Properties.FunctionConfig.KeyValueStoreAssociations)).toEqual([
      undefined,
      undefined,
    ]);
    const d = Object.values(platform.findResources('AWS::CloudFront::Distribution'))[0]!.Properties
      .DistributionConfig;
    for (const b of d.CacheBehaviors) {
      if (b.PathPattern === '*.m3u8') expect(b.FunctionAssociations).toHaveLength(1);
      else expect(b.FunctionAssociations, b.PathPattern).toBeUndefined();
    }
    const playlistCode = JSON.stringify(
      edgeFunctions.find((f) => /bucket/.test(f.Properties.FunctionConfig.Comment))?.Properties.FunctionCode,
    );
    expect(playlistCode).not.toContain('playback-key-');
    for (const f of Object.values(platform.findResources('AWS::Lambda::Function')))
      expect(f.Properties.Environment?.Variables?.MIRROR_PLAYBACK_PROTECTION).toBeUndefined();
  });

  it('deploys network, then data, then platform', () => {
    const { stacks } = synthesized.get(stage)!;
    expect(stacks.data.dependencies).toContain(stacks.network);
    expect(stacks.platform.dependencies).toEqual(expect.arrayContaining([stacks.network, stacks.data]));
    expect(stacks.data.dependencies).not.toContain(stacks.platform);
  });
});

describe('checks themselves', () => {
  it('fail synthesis on an unacknowledged finding', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    new Bucket(new Stack(app, 'Bad'), 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it('find the cycle that a distribution and its own invalidating function would form', () => {
    const cycle = findCycle({
      Resources: {
        Distribution: { Properties: { Origin: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
        Fn: { Properties: { Environment: { Ref: 'Distribution' } } },
        Other: { Properties: {}, DependsOn: ['Fn'] },
      },
    });
    expect(cycle).toEqual(['Distribution', 'Fn', 'Distribution']);
  });
});
