import { Metrics, MetricUnit as PowertoolsUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics, MetricUnit } from '../../core/adapters/emf.js';

// D34: the manifest function writes its metrics through EmfMetrics instead of Powertools Metrics. Each case makes the
// same calls on both, in the same environment and at the same instant, and expects the same lines.

type Line = { stream: 'log' | 'warn'; line: string };
type Calls = (metrics: Pick<EmfMetrics, 'addMetric' | 'hasStoredMetrics' | 'publishStoredMetrics'>) => void;

const options = { namespace: 'Mirror', serviceName: 'manifest', defaultDimensions: { Stage: 'prod' } };

function sinkInto(lines: Line[]) {
  return {
    log: (line: unknown) => lines.push({ stream: 'log', line: String(line) }),
    warn: (line: unknown) => lines.push({ stream: 'warn', line: String(line) }),
  };
}

function both(calls: Calls, env: Record<string, string> = {}) {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const expected: Line[] = [];
  const actual: Line[] = [];
  // Its metrics go to its Console, its warnings to its `logger` (the same Console by default): route both.
  const powertools = new Metrics({ ...options, logger: sinkInto(expected) as unknown as Console });
  Object.assign(powertools as unknown as { console: unknown }, { console: sinkInto(expected) });
  calls(powertools as unknown as EmfMetrics);
  calls(new EmfMetrics({ ...options, sink: sinkInto(actual) }));
  return { expected, actual };
}

describe('EmfMetrics writes what Powertools Metrics writes (D34)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T07:00:00.123Z'));
    for (const key of ['POWERTOOLS_DEV', 'POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_METRICS_NAMESPACE']) {
      vi.stubEnv(key, undefined);
    }
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('the manifest handler calls: one metric, a repeated metric as an array, a publish per request', () => {
    expect(MetricUnit.Milliseconds).toBe(PowertoolsUnit.Milliseconds);
    expect(MetricUnit.Count).toBe(PowertoolsUnit.Count);
    const { expected, actual } = both((m) => {
      m.addMetric('PlaylistLatencyMs', MetricUnit.Milliseconds, 12.5);
      if (m.hasStoredMetrics()) m.publishStoredMetrics();
      m.addMetric('PlaylistLatencyMs', MetricUnit.Milliseconds, 3);
      m.addMetric('BlockingWaitMs', MetricUnit.Milliseconds, 240);
      m.addMetric('PlaylistLatencyMs', MetricUnit.Milliseconds, 4);
      m.addMetric('BlockingTimeouts', MetricUnit.Count, 1);
      if (m.hasStoredMetrics()) m.publishStoredMetrics();
      expect(m.hasStoredMetrics()).toBe(false);
    });
    expect(actual).toEqual(expected);
    expect(JSON.parse(actual[1]!.line)).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-12-01T07:00:00.123Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'Mirror',
            Dimensions: [['service', 'Stage']],
            Metrics: [
              { Name: 'PlaylistLatencyMs', Unit: 'Milliseconds' },
              { Name: 'BlockingWaitMs', Unit: 'Milliseconds' },
              { Name: 'BlockingTimeouts', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'manifest',
      Stage: 'prod',
      PlaylistLatencyMs: [3, 4],
      BlockingWaitMs: 240,
      BlockingTimeouts: 1,
    });
  });

  it('publishes on its own before a 101st metric and at a metric 100th value; warns on an empty publish', () => {
    const { expected, actual } = both((m) => {
      for (let i = 0; i < 101; i++) m.addMetric(`m${i}`, MetricUnit.Count, i);
      for (let i = 0; i < 150; i++) m.addMetric('many', MetricUnit.Milliseconds, i);
      m.publishStoredMetrics();
      m.publishStoredMetrics();
    });
    expect(actual).toEqual(expected);
    expect(actual.map((l) => l.stream)).toEqual(['log', 'log', 'log', 'warn']);
  });

  it('refuses what Powertools refuses', () => {
    for (const call of [
      (m: EmfMetrics) => m.addMetric('', MetricUnit.Count, 1),
      (m: EmfMetrics) => m.addMetric('x'.repeat(256), MetricUnit.Count, 1),
      (m: EmfMetrics) => m.addMetric('bad', MetricUnit.Count, '1' as unknown as number),
      (m: EmfMetrics) => {
        m.addMetric('unit', MetricUnit.Count, 1);
        m.addMetric('unit', MetricUnit.Milliseconds, 1);
      },
    ]) {
      const theirs = (() => {
        try {
          call(new Metrics(options) as unknown as EmfMetrics);
        } catch (error) {
          return String(error);
        }
      })();
      expect(theirs).toBeDefined();
      expect(() => call(new EmfMetrics({ ...options, sink: sinkInto([]) }))).toThrow(
        theirs!.replace(/^\w+: /, ''),
      );
    }
  });

  it('POWERTOOLS_METRICS_DISABLED, else POWERTOOLS_DEV, turns output off', () => {
    const calls: Calls = (m) => {
      m.addMetric('PlaylistLatencyMs', MetricUnit.Milliseconds, 1);
      m.publishStoredMetrics();
    };
    const envs: Record<string, string>[] = [
      { POWERTOOLS_METRICS_DISABLED: 'true' },
      { POWERTOOLS_METRICS_DISABLED: 'off' },
      { POWERTOOLS_DEV: 'true' },
      { POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' },
    ];
    for (const env of envs) {
      const { expected, actual } = both(calls, env);
      expect(actual, JSON.stringify(env)).toEqual(expected);
      vi.unstubAllEnvs();
    }
  });
});
