import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../infra/config.js';
import { buildMirror, type MirrorStacks, REPO_ROOT } from '../../infra/mirror.js';

/** The context a `cdk synth` in the repository gets (feature flags included), so tests see the same template. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
}

export interface Synthesized {
  readonly app: App;
  readonly stacks: MirrorStacks;
  readonly network: Template;
  readonly data: Template;
  readonly platform: Template;
}

export interface SynthOptions {
  /**
   * aws-cdk-lib's built-in CloudFormation rule engine (a WASM module, about 15 s of CPU to start on these machines).
   * Property tests leave it off; the per-stage test runs it, as `cdk synth` does.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
}

/**
 * Synthesized stages by their arguments. `npm test` runs the infra files in one module graph per worker
 * (`--no-isolate`), so files asking for the same stage share one synthesis (several seconds of CPU each); the
 * templates are only read.
 */
const synthesized = new Map<string, Synthesized>();

/** Builds and synthesizes one stage (with cdk-nag, as `cdk synth` does) into a fresh temporary directory, once. */
export function synthStage(stage: string, overrides?: unknown, options: SynthOptions = {}): Synthesized {
  const key = JSON.stringify([stage, overrides ?? null, options]);
  const known = synthesized.get(key);
  if (known !== undefined) return known;
  const done = synthesizeStage(stage, overrides, options);
  synthesized.set(key, done);
  return done;
}

function synthesizeStage(stage: string, overrides: unknown, options: SynthOptions): Synthesized {
  const app = new App({
    context: cdkJsonContext(),
    outdir: mkdtempSync(join(tmpdir(), `mirror-cdk-${stage}-`)),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
  const stacks = buildMirror(app, loadStageConfig(stage, overrides));
  app.synth();
  const t = (s: Stack) => Template.fromStack(s);
  return { app, stacks, network: t(stacks.network), data: t(stacks.data), platform: t(stacks.platform) };
}

/** The one resource of a type in a template; fails the test if there are none or several. */
export function onlyResource(
  template: Template,
  type: string,
): { logicalId: string; properties: Record<string, unknown> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [logicalId, resource] = found[0]!;
  return { logicalId, properties: (resource as { Properties: Record<string, unknown> }).Properties };
}

/** A CloudFront distribution ARN in this account and partition as CDK renders it, ending in `resource`. */
export function distributionArn(...resource: unknown[]) {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ...resource],
    ],
  };
}
