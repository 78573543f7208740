import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MetricNames } from '../../core/metric-names.js';
import { synthStage } from './synth.js';

let platform: Template;

beforeAll(() => {
  platform = synthStage('dev').platform;
}, 120_000);

const INGEST_DIMENSIONS = Match.arrayEquals([
  { Name: 'Stage', Value: 'dev' },
  { Name: 'service', Value: 'ingest' },
]);

/** The one alarm whose metric queries mention `text`. */
function alarmOn(text: string): Record<string, unknown> {
  const found = Object.values(platform.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
    JSON.stringify(a.Properties.Metrics ?? a.Properties.MetricName ?? '').includes(text),
  );
  expect(found, text).toHaveLength(1);
  return found[0]!.Properties as Record<string, unknown>;
}

describe('alarms: missing data is breaching where silence is an outage (decision D21)', () => {
  it('no parts published while streams are live, or no ingest metrics at all, pages after 3 minutes', () => {
    const topic = Object.keys(platform.findResources('AWS::SNS::Topic'))[0]!;
    platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      AlarmActions: [{ Ref: topic }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(active > 0, parts, 1)', ReturnData: true }),
        Match.objectLike({
          Id: 'active',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: MetricNames.ingest.activeStreams,
              Dimensions: INGEST_DIMENSIONS,
            }),
            Stat: 'Sum',
          }),
        }),
        Match.objectLike({
          Id: 'parts',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: MetricNames.ingest.partsPublished,
              Dimensions: INGEST_DIMENSIONS,
            }),
            Stat: 'Sum',
          }),
        }),
      ]),
    });
  });

  it.each([[MetricNames.ingest.storageWriteFailures], [MetricNames.ingest.publishFailures]])(
    '%s: a failure counter, silent when nothing fails, pages on 2 minutes in a row',
    (name) => {
      const alarm = alarmOn(name);
      expect(alarm).toMatchObject({
        TreatMissingData: 'notBreaching',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 2,
      });
      expect(alarm.Metrics).toEqual([
        expect.objectContaining({
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'Mirror',
              MetricName: name,
              Dimensions: [
                { Name: 'Stage', Value: 'dev' },
                { Name: 'service', Value: 'ingest' },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
        }),
      ]);
    },
  );

  it('stream down is a counter too: missing data is not breaching', () => {
    expect(alarmOn(MetricNames.ingest.streamDown)).toMatchObject({ TreatMissingData: 'notBreaching' });
  });

  it('every alarm that pages says how it treats missing data; only the parts-published one breaches on silence', () => {
    const topic = Object.keys(platform.findResources('AWS::SNS::Topic'))[0]!;
    const alarms = Object.values(platform.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as Record<string, unknown>)
      .filter((a) => JSON.stringify(a.AlarmActions) === JSON.stringify([{ Ref: topic }]));
    expect(alarms.length).toBeGreaterThanOrEqual(7);
    expect(alarms.every((a) => a.TreatMissingData !== undefined)).toBe(true);
    expect(alarms.filter((a) => a.TreatMissingData === 'breaching')).toHaveLength(1);
  });
});
