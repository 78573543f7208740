import type { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  METRIC_DIMENSION_SERVICE,
  METRIC_DIMENSION_STAGE,
  METRIC_DIMENSION_STREAM,
  METRIC_NAMESPACE,
  MetricNames,
  MetricServices,
} from '../../../core/metric-names.js';

export interface MetricSources {
  readonly stage: string;
  readonly httpApiId: string;
  readonly manifestFunctionName: string;
  readonly distributionId: string;
  /** ElastiCache member node ids (CacheClusterId dimension). */
  readonly redisNodeIds: readonly string[];
}

const PER_STREAM_SCHEMA = `${METRIC_NAMESPACE},${METRIC_DIMENSION_SERVICE},${METRIC_DIMENSION_STAGE},${METRIC_DIMENSION_STREAM}`;

/** The metrics the dashboard draws and the alarms watch, all at one period. */
export class PlatformMetrics {
  constructor(
    private readonly sources: MetricSources,
    private readonly period: Duration,
  ) {}

  /** A task- or function-level metric in the Mirror namespace: dimensions { service, Stage }. */
  mirror(metricName: string, statistic: string, label: string | undefined, service: string): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [METRIC_DIMENSION_STAGE]: this.sources.stage, [METRIC_DIMENSION_SERVICE]: service },
      statistic,
      period: this.period,
      label,
    });
  }

  ingest(metricName: string, statistic: string, label?: string): Metric {
    return this.mirror(metricName, statistic, label, MetricServices.ingest);
  }

  manifest(metricName: string, statistic: string, label: string): Metric {
    return this.mirror(metricName, statistic, label, MetricServices.manifest);
  }

  /** Per-stream metrics carry StreamId: one line per stream, found by SEARCH. */
  perStream(metricName: string, statistic: string, label: string): MathExpression {
    return new MathExpression({
      label,
      expression: `SEARCH('{${PER_STREAM_SCHEMA}} MetricName="${metricName}" ${METRIC_DIMENSION_STAGE}="${this.sources.stage}"', '${statistic}', ${this.period.toSeconds()})`,
      usingMetrics: {},
      period: this.period,
    });
  }

  /** Alarms cannot use SEARCH; a Metrics Insights query sums the per-stream series instead. */
  streamsDown(): MathExpression {
    return new MathExpression({
      label: 'streams down',
      expression: `SELECT SUM(${MetricNames.ingest.streamDown}) FROM SCHEMA("${METRIC_NAMESPACE}", ${METRIC_DIMENSION_SERVICE}, ${METRIC_DIMENSION_STAGE}, ${METRIC_DIMENSION_STREAM}) WHERE ${METRIC_DIMENSION_STAGE} = '${this.sources.stage}'`,
      usingMetrics: {},
      period: this.period,
    });
  }

  /** An AWS service metric summed per period. */
  private sum(namespace: string, metricName: string, dimensionsMap: Record<string, string>): Metric {
    return new Metric({ namespace, metricName, dimensionsMap, statistic: 'Sum', period: this.period });
  }

  api(metricName: string): Metric {
    return this.sum('AWS/ApiGateway', metricName, { ApiId: this.sources.httpApiId });
  }

  /** The manifest function URL's request and error counts. */
  manifestUrl(metricName: string): Metric {
    return this.sum('AWS/Lambda', metricName, { FunctionName: this.sources.manifestFunctionName });
  }

  functionErrors(functionName: string): Metric {
    return this.sum('AWS/Lambda', 'Errors', { FunctionName: functionName });
  }

  /** CloudFront publishes its metrics in us-east-1 only, with Region=Global. */
  cloudFront(metricName: string): Metric {
    return new Metric({
      namespace: 'AWS/CloudFront',
      metricName,
      dimensionsMap: { DistributionId: this.sources.distributionId, Region: 'Global' },
      statistic: 'Average',
      period: this.period,
      region: 'us-east-1',
    });
  }

  /** One line per Redis node. */
  redis(metricName: string): Metric[] {
    return this.sources.redisNodeIds.map(
      (nodeId) =>
        new Metric({
          namespace: 'AWS/ElastiCache',
          metricName,
          dimensionsMap: { CacheClusterId: nodeId },
          statistic: 'Maximum',
          period: this.period,
          label: `${metricName} ${nodeId}`,
        }),
    );
  }

  /** Share of playlist and API requests answered with 5xx. */
  serverErrorRate(): MathExpression {
    return new MathExpression({
      label: '5xx % (API + playlists)',
      expression: `100 * (FILL(api5xx, 0) + FILL(url5xx, 0)) / MAX([FILL(apiCount, 0) + FILL(urlCount, 0), 1])`,
      usingMetrics: {
        api5xx: this.api('5xx'),
        apiCount: this.api('Count'),
        url5xx: this.manifestUrl('Url5xxCount'),
        urlCount: this.manifestUrl('UrlRequestCount'),
      },
      period: this.period,
    });
  }

  redisMemory(): MathExpression {
    const nodes = this.redis('DatabaseMemoryUsagePercentage');
    return new MathExpression({
      label: 'Redis memory % (max over nodes)',
      expression: `MAX([${nodes.map((_, i) => `mem${i}`).join(', ')}])`,
      usingMetrics: Object.fromEntries(nodes.map((metric, i) => [`mem${i}`, metric])),
      period: this.period,
    });
  }

  /**
   * Parts published per minute where streams are live, 1 where none is (decision D21): below 1 means streams are
   * connected but nothing reaches the playlists. The ingest writes both values on every task line (zeros
   * included), so no data at all means the ingest is silent: the alarm treats that as breaching.
   */
  partsPublishedWhileLive(): MathExpression {
    return new MathExpression({
      label: 'parts published while streams are live',
      expression: 'IF(active > 0, parts, 1)',
      usingMetrics: {
        active: this.ingest(MetricNames.ingest.activeStreams, 'Sum'),
        parts: this.ingest(MetricNames.ingest.partsPublished, 'Sum'),
      },
      period: this.period,
    });
  }

  partLatencyP99(): Metric {
    return this.ingest(MetricNames.ingest.partPublishLatencyMs, 'p99', 'part publish p99');
  }
}
