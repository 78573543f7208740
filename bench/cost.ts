// The cost model from the command line: reads the stage configuration exactly as `cdk synth` does (infra/config.ts,
// plus the `mirror.<stage>` overrides in cdk.json), prices the audience with bench/cost/model.ts and prints the lines.
// Usage: npm run cost -- --stage prod --streams 25 --viewers-per-stream 5000 --tiles 1 --profile standard
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadStageConfig } from '../infra/config.js';
import { parseCostArgs } from './cost/args.js';
import { CostInputError } from './cost/audience.js';
import { formatReport } from './cost/format.js';
import { costReport } from './cost/model.js';
import { PRICES } from './cost/prices.js';

/** The `mirror.<stage>` context of cdk.json, which infra/app.ts merges over the built-in stage. */
function cdkOverrides(stage: string): unknown {
  const cdk = JSON.parse(readFileSync(fileURLToPath(new URL('../cdk.json', import.meta.url)), 'utf8')) as {
    context?: { mirror?: Record<string, unknown> };
  };
  return cdk.context?.mirror?.[stage];
}

try {
  const args = parseCostArgs(process.argv.slice(2));
  const config = loadStageConfig(args.stage, cdkOverrides(args.stage));
  const report = costReport(config, args.audience, args.profile, PRICES);
  const a = args.audience;
  const header =
    `stage=${config.stage} ladder=${config.media.ladder} profile=${args.profile} streams=${a.streams} ` +
    `viewers_per_stream=${a.viewersPerStream} tiles=${a.tiles} origin_shield=${a.originShield ? 'on' : 'off'} ` +
    `(list prices 2026-12, sustained 24x7: bench/cost/prices.ts)`;
  console.log(formatReport(report, header).join('\n'));
} catch (error) {
  if (error instanceof CostInputError || error instanceof ConfigError) {
    console.error(`cost: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
