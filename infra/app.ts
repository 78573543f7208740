import { App } from 'aws-cdk-lib';
import { ConfigError, loadStageConfig } from './config.js';
import { buildMirror } from './mirror.js';

// The only place context is read: `-c stage=NAME`, plus optional per-stage overrides under the `mirror` key.
const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? 'dev');
const overrides = (app.node.tryGetContext('mirror') as Record<string, unknown> | undefined)?.[stage];
try {
  buildMirror(app, loadStageConfig(stage, overrides));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Mirror: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
app.synth();
