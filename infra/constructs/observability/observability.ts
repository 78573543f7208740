import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  METRIC_DIMENSION_SERVICE,
  METRIC_DIMENSION_STAGE,
  METRIC_DIMENSION_STREAM,
  METRIC_NAMESPACE,
  MetricNames,
  MetricServices,
} from '../../../core/metric-names.js';

const PERIOD = Duration.minutes(1);
/** Redis evicts or refuses writes near full memory; leave room for a burst of new streams. */
const REDIS_MEMORY_ALARM_PERCENT = 80;
/** Share of playlist and API requests answered with 5xx that pages someone. */
const SERVER_ERROR_ALARM_PERCENT = 1;
/** A part published this many part durations late makes players at PART-HOLD-BACK (3 parts) stall. */
const PART_LATENCY_ALARM_PARTS = 3;

export interface ObservabilityProps {
  readonly stage: string;
  /** Subscribed to the alarm topic when set. */
  readonly alarmEmail?: string;
  readonly partTargetMs: number;
  readonly distributionId: string;
  readonly httpApiId: string;
  readonly manifestFunctionName: string;
  readonly functionNames: readonly string[];
  /** ElastiCache member node ids (CacheClusterId dimension). */
  readonly redisNodeIds: readonly string[];
}

/** The operators' dashboard and the alarms that page them through one SNS topic. */
export class Observability extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: {
    readonly streamDown: Alarm;
    readonly serverErrors: Alarm;
    readonly partLatency: Alarm;
    readonly redisMemory: Alarm;
  };
  private readonly stage: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.stage = props.stage;

    this.topic = new Topic(this, 'Alarms', { displayName: `Mirror ${props.stage} alarms`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no sensitive data, and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const m = MetricNames;
    const ingest = (metricName: string, statistic: string, label?: string) =>
      this.mirror(metricName, statistic, label, MetricServices.ingest);
    // Per-stream metrics carry StreamId: one line per stream, found by SEARCH.
    const perStream = (metricName: string, statistic: string, label: string) =>
      new MathExpression({
        label,
        expression: `SEARCH('{${METRIC_NAMESPACE},${METRIC_DIMENSION_SERVICE},${METRIC_DIMENSION_STAGE},${METRIC_DIMENSION_STREAM}} MetricName="${metricName}" ${METRIC_DIMENSION_STAGE}="${props.stage}"', '${statistic}', ${PERIOD.toSeconds()})`,
        usingMetrics: {},
        period: PERIOD,
      });
    // Alarms cannot use SEARCH; a Metrics Insights query sums the per-stream series instead.
    const streamsDown = new MathExpression({
      label: 'streams down',
      expression: `SELECT SUM(${m.ingest.streamDown}) FROM SCHEMA("${METRIC_NAMESPACE}", ${METRIC_DIMENSION_SERVICE}, ${METRIC_DIMENSION_STAGE}, ${METRIC_DIMENSION_STREAM}) WHERE ${METRIC_DIMENSION_STAGE} = '${props.stage}'`,
      usingMetrics: {},
      period: PERIOD,
    });

    const api = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApiId },
        statistic: 'Sum',
        period: PERIOD,
      });
    const url = (metricName: string) =>
      new Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { FunctionName: props.manifestFunctionName },
        statistic: 'Sum',
        period: PERIOD,
      });
    // CloudFront publishes its metrics in us-east-1 only, with Region=Global.
    const cloudFront = (metricName: string) =>
      new Metric({
        namespace: 'AWS/CloudFront',
        metricName,
        dimensionsMap: { DistributionId: props.distributionId, Region: 'Global' },
        statistic: 'Average',
        period: PERIOD,
        region: 'us-east-1',
      });
    const redis = (metricName: string, nodeId: string) =>
      new Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { CacheClusterId: nodeId },
        statistic: 'Maximum',
        period: PERIOD,
        label: `${metricName} ${nodeId}`,
      });

    const serverErrorRate = new MathExpression({
      label: '5xx % (API + playlists)',
      expression: `100 * (FILL(api5xx, 0) + FILL(url5xx, 0)) / MAX([FILL(apiCount, 0) + FILL(urlCount, 0), 1])`,
      usingMetrics: {
        api5xx: api('5xx'),
        apiCount: api('Count'),
        url5xx: url('Url5xxCount'),
        urlCount: url('UrlRequestCount'),
      },
      period: PERIOD,
    });
    const redisMemory = new MathExpression({
      label: 'Redis memory % (max over nodes)',
      expression: `MAX([${props.redisNodeIds.map((_, i) => `mem${i}`).join(', ')}])`,
      usingMetrics: Object.fromEntries(
        props.redisNodeIds.map((nodeId, i) => [`mem${i}`, redis('DatabaseMemoryUsagePercentage', nodeId)]),
      ),
      period: PERIOD,
    });
    const partLatency = ingest(m.ingest.partPublishLatencyMs, 'p99', 'part publish p99');

    const action = new SnsAction(this.topic);
    const alarm = (
      id: string,
      metric: IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 3,
    ) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    this.alarms = {
      streamDown: alarm(
        'StreamDown',
        streamsDown,
        1,
        'A publishing stream stopped unexpectedly (encoder gone, stall or transcoder exit).',
        1,
      ),
      serverErrors: alarm(
        'ServerErrors',
        serverErrorRate,
        SERVER_ERROR_ALARM_PERCENT,
        `More than ${SERVER_ERROR_ALARM_PERCENT}% of API and playlist requests failed with 5xx for 3 minutes.`,
      ),
      partLatency: alarm(
        'PartLatency',
        partLatency,
        PART_LATENCY_ALARM_PARTS * props.partTargetMs,
        `p99 part publish latency above ${PART_LATENCY_ALARM_PARTS} part durations for 3 minutes: players at the live edge stall.`,
      ),
      redisMemory: alarm(
        'RedisMemory',
        redisMemory,
        REDIS_MEMORY_ALARM_PERCENT,
        `Redis memory above ${REDIS_MEMORY_ALARM_PERCENT}% for 3 minutes.`,
      ),
    };

    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [new TextWidget({ markdown: `# Mirror ${props.stage}`, width: 24, height: 1 })],
        [
          graph(
            'Ingest bitrate per stream',
            [perStream(m.ingest.bitrate, 'Average', 'bitrate')],
            [ingest(m.ingest.activeStreams, 'Sum', 'active streams')],
          ),
          graph(
            'SRT loss (%) and RTT (ms) per stream',
            [perStream(m.ingest.srtLossPercent, 'Maximum', 'loss %')],
            [perStream(m.ingest.srtRttMs, 'Average', 'RTT ms')],
          ),
        ],
        [
          graph('Transcoder speed (x real time)', [perStream(m.ingest.transcoderSpeed, 'Minimum', 'speed')]),
          graph('Part publish latency (ms)', [
            ingest(m.ingest.partPublishLatencyMs, 'p50', 'p50'),
            partLatency,
          ]),
        ],
        [
          graph(
            'Playlist latency and blocking waits (ms)',
            [
              this.mirror(m.manifest.playlistLatencyMs, 'p50', 'playlist p50', MetricServices.manifest),
              this.mirror(m.manifest.playlistLatencyMs, 'p99', 'playlist p99', MetricServices.manifest),
              this.mirror(m.manifest.blockingWaitMs, 'p99', 'blocking wait p99', MetricServices.manifest),
            ],
            [this.mirror(m.manifest.blockingTimeouts, 'Sum', 'blocking timeouts', MetricServices.manifest)],
          ),
          graph(
            '4xx / 5xx',
            [api('4xx'), api('5xx'), url('Url4xxCount'), url('Url5xxCount')],
            props.functionNames.map(
              (name) =>
                new Metric({
                  namespace: 'AWS/Lambda',
                  metricName: 'Errors',
                  dimensionsMap: { FunctionName: name },
                  statistic: 'Sum',
                  period: PERIOD,
                }),
            ),
          ),
        ],
        [
          graph('CloudFront error rate (%)', [
            cloudFront('4xxErrorRate'),
            cloudFront('5xxErrorRate'),
            cloudFront('TotalErrorRate'),
          ]),
          graph(
            'Redis CPU and memory (%)',
            props.redisNodeIds.map((nodeId) => redis('EngineCPUUtilization', nodeId)),
            props.redisNodeIds.map((nodeId) => redis('DatabaseMemoryUsagePercentage', nodeId)),
          ),
        ],
        [
          graph(
            'GPU use (%)',
            [
              ingest(m.ingest.gpuUtilizationPercent, 'Average', 'GPU avg'),
              ingest(m.ingest.gpuUtilizationPercent, 'Maximum', 'GPU max'),
            ],
            [ingest(m.ingest.sessionUtilization, 'Average', 'NVENC session slots used %')],
          ),
          graph('NVENC / NVDEC engine use (%)', [
            ingest(m.ingest.gpuEncoderUtilizationPercent, 'Average', 'NVENC avg'),
            ingest(m.ingest.gpuEncoderUtilizationPercent, 'Maximum', 'NVENC max'),
            ingest(m.ingest.gpuDecoderUtilizationPercent, 'Maximum', 'NVDEC max'),
          ]),
        ],
      ],
    });
  }

  /** A task- or function-level metric in the Mirror namespace: dimensions { service, Stage }. */
  private mirror(metricName: string, statistic: string, label: string | undefined, service: string): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [METRIC_DIMENSION_STAGE]: this.stage, [METRIC_DIMENSION_SERVICE]: service },
      statistic,
      period: PERIOD,
      label,
    });
  }
}
