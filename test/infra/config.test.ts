import { describe, expect, it } from 'vitest';
import { ConfigError, dvrWindowDays, loadStageConfig, STAGES } from '../../infra/config.js';

/** The validation message for a stage with one override applied. */
function errorFor(stage: string, overrides: unknown): string {
  try {
    loadStageConfig(stage, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('stage configuration', () => {
  it('defines dev and prod, both valid as shipped', () => {
    expect(Object.keys(STAGES)).toEqual(expect.arrayContaining(['dev', 'prod']));
    for (const stage of Object.keys(STAGES)) expect(loadStageConfig(stage).stage).toBe(stage);
  });

  it("uses the seed's targets by default: g4dn.xlarge, 20-segment window, 4 h DVR, 30 days of recordings", () => {
    const c = loadStageConfig('prod');
    expect(c.ingest.instanceType).toBe('g4dn.xlarge');
    expect(c.media).toMatchObject({
      windowSegments: 20,
      dvrWindowS: 4 * 3600,
      recordingRetentionDays: 30,
    });
  });

  it('gives prod at least one Redis replica', () => {
    expect(loadStageConfig('prod').redis.replicas).toBeGreaterThanOrEqual(1);
  });

  it('refuses prod without a Redis replica, naming the field', () => {
    expect(errorFor('prod', { redis: { replicas: 0 } })).toMatch(/redis\.replicas: .*at least 1 replica/);
  });

  it('ships playback protection on in prod and off in dev (D37), and takes only a boolean for it', () => {
    expect(Object.keys(STAGES).map((s) => [s, loadStageConfig(s).delivery.playbackProtection])).toEqual([
      ['dev', false],
      ['prod', true],
    ]);
    expect(loadStageConfig('prod').delivery.playbackKeyRotationDays).toBe(30);
    expect(errorFor('prod', { delivery: { playbackKeyRotationDays: 0 } })).toMatch(
      /delivery\.playbackKeyRotationDays/,
    );
    expect(errorFor('dev', { delivery: { playbackProtection: 'on' } })).toMatch(
      /delivery\.playbackProtection: .*boolean/,
    );
  });

  it('names an unknown stage and how to choose one', () => {
    expect(errorFor('qa', undefined)).toMatch(/unknown stage "qa".*-c stage=NAME/);
  });

  it('merges cdk.json overrides over the stage defaults, replacing arrays', () => {
    const c = loadStageConfig('dev', {
      ingest: { encoderCidrs: ['203.0.113.0/24'] },
      alarmEmail: 'ops@example.com',
    });
    expect(c.ingest.encoderCidrs).toEqual(['203.0.113.0/24']);
    expect(c.ingest.srtPort).toBe(9000);
    expect(c.alarmEmail).toBe('ops@example.com');
  });

  it.each(['g4dn.xlarge', 'g4dn.12xlarge', 'g5.2xlarge', 'g6.xlarge', 'g6e.xlarge', 'g4dn.metal'])(
    'accepts the NVENC instance type %s',
    (instanceType) => {
      expect(loadStageConfig('dev', { ingest: { instanceType } }).ingest.instanceType).toBe(instanceType);
    },
  );

  it.each(['p4d.24xlarge', 'p5.48xlarge', 'p4de.24xlarge'])(
    'rejects %s because it has no NVENC',
    (instanceType) => {
      expect(errorFor('dev', { ingest: { instanceType } })).toMatch(
        new RegExp(`ingest\\.instanceType: ${instanceType.replace('.', '\\.')}: .*no NVENC`),
      );
    },
  );

  it('rejects a non-GPU family, listing the allowed ones', () => {
    expect(errorFor('dev', { ingest: { instanceType: 'c7i.2xlarge' } })).toMatch(
      /ingest\.instanceType: .*c7i is not a GPU family with NVENC; use one of g4dn, g5, g6, g6e/,
    );
  });

  it('has no stage-wide part or segment target: each stream’s latency profile sets them (decision D28)', () => {
    expect(errorFor('dev', { media: { partTargetMs: 100 } })).toMatch(/media: .*partTargetMs/);
  });

  it('rejects a playlist window shorter than three target durations', () => {
    expect(errorFor('dev', { media: { windowSegments: 3 } })).toMatch(
      /media\.windowSegments: the playlist must span at least 3 target durations \(3 s\)/,
    );
  });

  it('rejects maxTasks below minTasks', () => {
    expect(errorFor('dev', { ingest: { minTasks: 3, maxTasks: 2 } })).toMatch(
      /ingest\.maxTasks: must be greater than or equal to minTasks/,
    );
  });

  it('rejects a malformed encoder CIDR, naming its index', () => {
    expect(errorFor('dev', { ingest: { encoderCidrs: ['10.0.0.0/8', '300.1.2.3/24'] } })).toMatch(
      /ingest\.encoderCidrs\.1: must be an IPv4 CIDR/,
    );
  });

  it('rejects an unknown ladder preset', () => {
    expect(errorFor('dev', { media: { ladder: 'huge' } })).toMatch(
      /media\.ladder: must be one of tile, full, passthrough/,
    );
  });

  it('requires a us-east-1 certificate together with custom domain names', () => {
    expect(errorFor('dev', { delivery: { domainNames: ['live.example.com'] } })).toMatch(
      /delivery\.certificateArn: domainNames and certificateArn go together/,
    );
    expect(
      errorFor('dev', {
        delivery: {
          domainNames: ['live.example.com'],
          certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123',
        },
      }),
    ).toMatch(/delivery\.certificateArn: must be an ACM certificate ARN in us-east-1/);
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    expect(errorFor('dev', { ingest: { maxTask: 3 } })).toMatch(/ingest: Unrecognized key: "maxTask"/);
  });

  it('rejects a malformed geo allow-list entry and a malformed alarm e-mail', () => {
    expect(errorFor('dev', { delivery: { geoAllowList: ['de'] } })).toMatch(
      /delivery\.geoAllowList\.0: must be an ISO/,
    );
    expect(errorFor('dev', { alarmEmail: 'ops' })).toMatch(/alarmEmail/);
  });

  it('rounds the DVR window up to whole days for S3 lifecycle, at least one day', () => {
    expect(dvrWindowDays(4 * 3600)).toBe(1);
    expect(dvrWindowDays(86_400)).toBe(1);
    expect(dvrWindowDays(86_401)).toBe(2);
  });
});
