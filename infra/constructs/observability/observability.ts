import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { MetricNames } from '../../../core/metric-names.js';
import { dashboardRows } from './dashboard.js';
import { PlatformMetrics } from './metrics.js';

const PERIOD = Duration.minutes(1);
/** Redis evicts or refuses writes near full memory; leave room for a burst of new streams. */
const REDIS_MEMORY_ALARM_PERCENT = 80;
/** Share of playlist and API requests answered with 5xx that pages someone. */
const SERVER_ERROR_ALARM_PERCENT = 1;
/** A part published this many part durations late makes players at PART-HOLD-BACK (3 parts) stall. */
const PART_LATENCY_ALARM_PARTS = 3;
/**
 * Minutes in a row before the failure counters page (decision D21): one minute is a bad second of S3 or a Redis
 * blip, which the packager rides out; a second one in a row is an outage someone should look at.
 */
const FAILURE_ALARM_MINUTES = 2;
/** Minutes in a row of live streams without a published part (or of ingest silence) before paging. */
const NO_PARTS_ALARM_MINUTES = 3;

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
    readonly noPartsPublished: Alarm;
    readonly storageWriteFailures: Alarm;
    readonly publishFailures: Alarm;
  };

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = this.createTopic(props);
    const metrics = new PlatformMetrics(props, PERIOD);
    this.alarms = this.createAlarms(metrics, props.partTargetMs);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: dashboardRows(metrics, props),
    });
  }

  private createTopic(props: ObservabilityProps): Topic {
    const topic = new Topic(this, 'Alarms', {
      displayName: `Mirror ${props.stage} alarms`,
      enforceSSL: true,
    });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no sensitive data, and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.',
    });
    if (props.alarmEmail) topic.addSubscription(new EmailSubscription(props.alarmEmail));
    return topic;
  }

  private createAlarms(metrics: PlatformMetrics, partTargetMs: number): Observability['alarms'] {
    const action = new SnsAction(this.topic);
    // Missing data is NOT_BREACHING by default: these are counters and levels whose silence is good (nothing failed,
    // nothing was requested). An alarm whose silence means an outage says BREACHING itself.
    const alarm = (
      id: string,
      metric: IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 3,
      options: { comparison?: ComparisonOperator; missing?: TreatMissingData } = {},
    ) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    return {
      streamDown: alarm(
        'StreamDown',
        metrics.streamsDown(),
        1,
        'A publishing stream stopped unexpectedly (encoder gone, stall or transcoder exit).',
        1,
      ),
      serverErrors: alarm(
        'ServerErrors',
        metrics.serverErrorRate(),
        SERVER_ERROR_ALARM_PERCENT,
        `More than ${SERVER_ERROR_ALARM_PERCENT}% of API and playlist requests failed with 5xx for 3 minutes.`,
      ),
      partLatency: alarm(
        'PartLatency',
        metrics.partLatencyP99(),
        PART_LATENCY_ALARM_PARTS * partTargetMs,
        `p99 part publish latency above ${PART_LATENCY_ALARM_PARTS} part durations for 3 minutes: players at the live edge stall.`,
      ),
      redisMemory: alarm(
        'RedisMemory',
        metrics.redisMemory(),
        REDIS_MEMORY_ALARM_PERCENT,
        `Redis memory above ${REDIS_MEMORY_ALARM_PERCENT}% for 3 minutes.`,
      ),
      noPartsPublished: alarm(
        'NoPartsPublished',
        metrics.partsPublishedWhileLive(),
        1,
        `Streams are live but no part was published for ${NO_PARTS_ALARM_MINUTES} minutes, or the ingest wrote no metrics at all (it always runs at least one task): viewers see nothing new.`,
        NO_PARTS_ALARM_MINUTES,
        { comparison: ComparisonOperator.LESS_THAN_THRESHOLD, missing: TreatMissingData.BREACHING },
      ),
      storageWriteFailures: alarm(
        'StorageWriteFailures',
        metrics.ingest(MetricNames.ingest.storageWriteFailures, 'Sum', 'storage writes given up'),
        1,
        `Media writes to S3 given up after their retries in ${FAILURE_ALARM_MINUTES} minutes in a row: parts are being lost (never listed) or renditions wait for their init segment.`,
        FAILURE_ALARM_MINUTES,
      ),
      publishFailures: alarm(
        'PublishFailures',
        metrics.ingest(MetricNames.ingest.publishFailures, 'Sum', 'live-state publishes failed'),
        1,
        `Live-state publishes to Redis failing in ${FAILURE_ALARM_MINUTES} minutes in a row: media is stored but playlists do not move.`,
        FAILURE_ALARM_MINUTES,
      ),
    };
  }
}
