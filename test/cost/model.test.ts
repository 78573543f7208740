import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseCostArgs } from '../../bench/cost/args.js';
import { CostInputError, tieredCost, tileRequestsPerSecond, viewerTiles } from '../../bench/cost/audience.js';
import { formatReport } from '../../bench/cost/format.js';
import { type Audience, costReport } from '../../bench/cost/model.js';
import { PRICES } from '../../bench/cost/prices.js';
import { LADDERS } from '../../core/ladder.js';
import { LATENCY_PROFILES, partTargetMsFor } from '../../core/latency-profiles.js';
import { loadStageConfig } from '../../infra/config.js';

const prod = loadStageConfig('prod');
const full = LADDERS.full;
const tileRung = full.at(-1)!;
const seed = (tiles: number, extra: Partial<Audience> = {}): Audience => ({
  streams: 25,
  viewersPerStream: 5000,
  tiles,
  originShield: true,
  record: false,
  ...extra,
});
const line = (report: ReturnType<typeof costReport>, key: string) =>
  report.lines.find((l) => l.key === key)?.usdPerHour;

describe('request arithmetic (2 requests per part per tile)', () => {
  it('one blocking playlist reload and one part fetch per part', () => {
    expect(tileRequestsPerSecond(100)).toBe(20);
    expect(tileRequestsPerSecond(250)).toBe(8);
  });

  it.each(LATENCY_PROFILES)(
    'a %s wall: the focused tile at its rung, the other tiles at the tile rung',
    (profile) => {
      const focus = full.find((r) => r.name === '720p')!;
      const report = costReport(prod, seed(6, { focusRung: '720p' }), profile, PRICES);
      const expected =
        2000 / partTargetMsFor(profile, full, focus) + 5 * (2000 / partTargetMsFor(profile, full, tileRung));
      expect(report.mediaRequestsPerViewerSecond).toBeCloseTo(expected, 9);
      expect(report.tiles.map((t) => t.rung.name)).toEqual(['720p', '360p', '360p', '360p', '360p', '360p']);
    },
  );

  it('the wall profile makes a wall cheaper than low: long parts on the non-focused tiles', () => {
    const wall = costReport(prod, seed(6), 'wall', PRICES);
    const low = costReport(prod, seed(6), 'low', PRICES);
    expect(wall.mediaRequestsPerViewerSecond).toBeLessThan(low.mediaRequestsPerViewerSecond);
    expect(wall.usdPerViewerHour).toBeLessThan(low.usdPerViewerHour);
  });

  it('bills CloudFront for every viewer request, media and session API', () => {
    const report = costReport(prod, seed(1), 'standard', PRICES);
    const perSecond =
      report.viewers * (report.mediaRequestsPerViewerSecond + report.apiRequestsPerViewerSecond);
    expect(line(report, 'cloudfront.requests')).toBeCloseTo(perSecond * 3600 * (0.01 / 10_000), 6);
  });

  it('collapses origin requests behind Origin Shield; without it every regional cache reaches the manifest', () => {
    const shielded = costReport(prod, seed(1), 'standard', PRICES);
    const open = costReport(prod, seed(1, { originShield: false }), 'standard', PRICES);
    expect(line(open, 'cloudfront.origin_shield')).toBe(0);
    expect(line(open, 'lambda.manifest.requests')! / line(shielded, 'lambda.manifest.requests')!).toBeCloseTo(
      13,
      9,
    );
    // Viewer-side requests do not depend on the origin's shielding.
    expect(line(open, 'cloudfront.requests')).toBe(line(shielded, 'cloudfront.requests'));
  });

  it('prices one task per nvencSessionsPerGpu streams, at least minTasks', () => {
    const report = costReport(prod, seed(1), 'standard', PRICES);
    expect(line(report, 'ec2.gpu')).toBeCloseTo(Math.ceil(25 / 8) * PRICES.ec2Hourly['g4dn.xlarge']!.usd, 9);
    const few = costReport(prod, seed(1, { streams: 1 }), 'standard', PRICES);
    expect(line(few, 'ec2.gpu')).toBeCloseTo(prod.ingest.minTasks * PRICES.ec2Hourly['g4dn.xlarge']!.usd, 9);
  });
});

describe('egress volume tiers', () => {
  const tiers = PRICES.cloudfront.egressTiers.tiers;
  const TB = 1024;

  it('prices a month inside the first tier at the first rate', () => {
    expect(tieredCost(5 * TB, tiers).usd).toBeCloseTo(5 * TB * 0.085, 6);
  });

  it('prices a month crossing a tier boundary at both rates', () => {
    const cost = tieredCost(15 * TB, tiers);
    expect(cost.byTier.map((t) => t.volume)).toEqual([10 * TB, 5 * TB]);
    expect(cost.usd).toBeCloseTo(10 * TB * 0.085 + 5 * TB * 0.08, 6);
  });

  it('fills every tier before the last, open-ended one', () => {
    const cost = tieredCost(6 * 1024 * TB, tiers);
    expect(cost.byTier).toHaveLength(7);
    expect(cost.byTier.at(-1)!.volume).toBe(1024 * TB);
    expect(cost.byTier.slice(0, -1).reduce((s, t) => s + t.volume, 0)).toBe(5 * 1024 * TB);
  });

  it('the report lists one egress line per tier the sustained month reaches, summing to the tiered cost', () => {
    // 25 single-tile viewers of one stream: about 5 GB/h, 3.8 TB a month: the first tier only.
    const small = costReport(prod, seed(1, { streams: 1, viewersPerStream: 25 }), 'standard', PRICES);
    expect(small.lines.filter((l) => l.key.startsWith('cloudfront.egress')).map((l) => l.key)).toEqual([
      'cloudfront.egress.tier1',
    ]);
    const seedReport = costReport(prod, seed(1), 'standard', PRICES);
    const egress = seedReport.lines.filter((l) => l.key.startsWith('cloudfront.egress'));
    const bytesPerViewerS = seedReport.tiles.reduce((s, t) => s + t.bytesPerSecond, 0);
    const monthGb = (seedReport.viewers * bytesPerViewerS * 3600 * 730) / 1024 ** 3;
    expect(egress.reduce((s, l) => s + l.usdPerHour, 0)).toBeCloseTo(tieredCost(monthGb, tiers).usd / 730, 6);
    expect(egress.length).toBeGreaterThan(1);
  });
});

describe('bad input names the flag', () => {
  const base = ['--stage', 'prod', '--streams', '25', '--viewers-per-stream', '5000'];

  it('refuses an unknown flag by name', () => {
    expect(() => parseCostArgs([...base, '--tile', '6'])).toThrow(/--tile'/);
  });

  it('refuses a profile that does not exist, listing the profiles', () => {
    expect(() => parseCostArgs([...base, '--profile', 'fast'])).toThrow(
      /--profile: "fast" must be one of low/,
    );
  });

  it('refuses a number that is not whole', () => {
    expect(() => parseCostArgs(['--stage', 'prod', '--streams', '2.5', '--viewers-per-stream', '1'])).toThrow(
      /--streams: "2.5" is not a whole number/,
    );
  });

  it('refuses tiles outside 1..25, more tiles than streams, and more streams than the ingest holds', () => {
    expect(() => costReport(prod, seed(26, { streams: 30 }), 'low', PRICES)).toThrow(/--tiles: must be/);
    expect(() => costReport(prod, seed(6, { streams: 4 }), 'low', PRICES)).toThrow(/--tiles: 6 tiles need/);
    expect(() => costReport(prod, seed(1, { streams: 81 }), 'low', PRICES)).toThrow(
      /--streams: 81 exceeds the stage's ingest capacity \(ingest.maxTasks 10 x ingest.nvencSessionsPerGpu 8 = 80\)/,
    );
  });

  it('refuses a focus rendition the ladder does not have', () => {
    expect(() => viewerTiles(full, 'low', 1, '4k')).toThrow(CostInputError);
    expect(() => viewerTiles(full, 'low', 1, '4k')).toThrow(/--focus-rung: 4k is not a rung/);
  });

  it('the command prints the TOTAL line last, and exits 2 naming a bad flag', async () => {
    const run = promisify(execFile);
    const ok = await run(process.execPath, [
      '--import',
      'tsx',
      'bench/cost.ts',
      ...base,
      '--tiles',
      '1',
      '--profile',
      'standard',
    ]);
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(
      /^TOTAL usd_per_hour=\d+\.\d+ usd_per_viewer_hour=\d+\.\d+ usd_per_stream_hour=\d+\.\d+ ivs_ll_usd_per_viewer_hour=\d+\.\d+$/,
    );
    const bad = await run(process.execPath, [
      '--import',
      'tsx',
      'bench/cost.ts',
      ...base,
      '--tilez',
      '1',
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining("'--tilez'") });
  });
});

describe('ingest storage (decision D33: parts in Redis, segments in S3)', () => {
  it.each(LATENCY_PROFILES)(
    '%s: S3 PUTs are the segments of every rung only, and cost no more per stream-hour than the GPU',
    (profile) => {
      const report = costReport(prod, seed(1), profile, PRICES);
      const segmentsPerS = 25 * full.length * (1000 / (800 as number));
      expect(line(report, 's3.put')).toBeCloseTo(segmentsPerS * 3600 * PRICES.s3.put.usd, 9);
      expect(line(report, 's3.put')! / 25).toBeLessThanOrEqual(line(report, 'ec2.gpu')! / 25);
      // Parts are neither PUT nor kept in S3; players' part requests are Lambda reads of Redis instead of S3 GETs.
      expect(report.lines.map((l) => l.key)).not.toContain('s3.storage.live_parts');
      expect(report.lines.map((l) => l.key)).not.toContain('s3.get');
      expect(line(report, 'lambda.manifest.parts')).toBeGreaterThan(0);
      expect(line(report, 'redis.network')).toBeGreaterThan(0);
    },
  );

  it('reads each watched part once per shield, or once per regional cache without one', () => {
    const shielded = costReport(prod, seed(1), 'standard', PRICES);
    const open = costReport(prod, seed(1, { originShield: false }), 'standard', PRICES);
    expect(line(open, 'lambda.manifest.parts')! / line(shielded, 'lambda.manifest.parts')!).toBeCloseTo(
      13,
      9,
    );
  });

  it('the parts fit the prod Redis node at the seed; a dev node at its full ingest capacity does not', () => {
    const redisMemory = (r: ReturnType<typeof costReport>) =>
      r.quotas.find((q) => q.name.startsWith('Redis'))!;
    const seedPlan = redisMemory(costReport(prod, seed(1), 'standard', PRICES));
    // 25 streams x the full ladder at peak (8,988 kbit/s) x a 74 s TTL: about 1.9 GiB of 9.8 usable.
    expect(seedPlan.need).toBeCloseTo((25 * 8988 * 125 * 74) / 1024 ** 2, 6);
    expect(seedPlan.need).toBeLessThan(seedPlan.quota);
    const dev = loadStageConfig('dev');
    const full16 = redisMemory(costReport(dev, seed(1, { streams: 16 }), 'standard', PRICES));
    expect(full16.need).toBeGreaterThan(full16.quota);
    expect(
      formatReport(costReport(dev, seed(1, { streams: 16 }), 'standard', PRICES), '').join('\n'),
    ).toMatch(/QUOTA Redis memory for parts.*choose a larger redis.nodeType/);
  });
});
