import { parseArgs } from 'node:util';
import { LATENCY_PROFILES, LatencyProfile } from '../../core/latency-profiles.js';
import { CostInputError } from './audience.js';
import type { Audience } from './model.js';

export interface CostArgs {
  readonly stage: string;
  readonly profile: LatencyProfile;
  readonly audience: Audience;
}

export const COST_USAGE =
  'usage: npm run cost -- --stage <name> --streams <n> --viewers-per-stream <n> --tiles <1..25> --profile <' +
  `${LATENCY_PROFILES.join('|')}> [--focus-rung <rendition>] [--origin-shield on|off] [--record]`;

function wholeNumber(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new CostInputError(`--${flag}: required`);
  }
  if (!/^\d+$/.test(value)) throw new CostInputError(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}

/** Parses `npm run cost` flags; a bad or unknown flag throws CostInputError naming it. */
export function parseCostArgs(argv: readonly string[]): CostArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stage: { type: 'string' },
        streams: { type: 'string' },
        'viewers-per-stream': { type: 'string' },
        tiles: { type: 'string' },
        profile: { type: 'string' },
        'focus-rung': { type: 'string' },
        'origin-shield': { type: 'string' },
        record: { type: 'boolean' },
      },
    }));
  } catch (error) {
    // node:util names the option ("Unknown option '--tile'"); keep its words, add what is accepted.
    throw new CostInputError(`${(error as Error).message}\n${COST_USAGE}`);
  }
  const str = (name: string) => values[name] as string | undefined;
  const stage = str('stage');
  if (stage === undefined)
    throw new CostInputError('--stage: required (a stage of infra/config.ts, e.g. prod)');
  const profile = LatencyProfile.safeParse(str('profile') ?? 'standard');
  if (!profile.success) {
    throw new CostInputError(`--profile: "${str('profile')}" ${profile.error.issues[0]?.message}`);
  }
  const shield = str('origin-shield') ?? 'on';
  if (shield !== 'on' && shield !== 'off') {
    throw new CostInputError(`--origin-shield: "${shield}" must be on or off`);
  }
  return {
    stage,
    profile: profile.data,
    audience: {
      streams: wholeNumber('streams', str('streams')),
      viewersPerStream: wholeNumber('viewers-per-stream', str('viewers-per-stream')),
      tiles: wholeNumber('tiles', str('tiles'), 1),
      focusRung: str('focus-rung'),
      originShield: shield === 'on',
      record: values.record === true,
    },
  };
}
