import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_DIMENSION_STAGE, METRIC_NAMESPACE, MetricNames } from '../../../core/metric-names.js';
import type { PartPublished } from '../../../core/packager/index.js';
import type { IngestMetricsSink } from './service.js';

/**
 * CloudWatch embedded metric format on stdout (the awslogs driver ships it; CloudWatch extracts the metrics):
 * namespace Mirror, dimension Stage, per-stream metrics also by StreamId. Names from core/metric-names.ts, which the
 * infrastructure's dashboard and alarms read.
 */
export function emfMetrics(
  stage: string,
  taskId: string,
): IngestMetricsSink & { partPublished: (part: PartPublished) => void } {
  const metrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: 'ingest',
    defaultDimensions: { [METRIC_DIMENSION_STAGE]: stage },
  });
  const m = MetricNames.ingest;
  return {
    // Stored, not written: the values go out with the next task line (or at Powertools' 100 values per metric),
    // so CloudWatch gets every part's latency for percentiles without a log line per part.
    partPublished: (part) =>
      metrics.addMetric(
        m.partPublishLatencyMs,
        MetricUnit.Milliseconds,
        part.publishedAtMs - part.arrivedAtMs,
      ),
    report(task, streams) {
      metrics.addMetric(m.activeStreams, MetricUnit.Count, task.activeStreams);
      metrics.addMetric(
        m.sessionUtilization,
        MetricUnit.Percent,
        task.capacity > 0 ? (100 * task.activeStreams) / task.capacity : 0,
      );
      metrics.addMetadata('taskId', taskId);
      metrics.publishStoredMetrics();
      for (const s of streams) {
        const single = metrics.singleMetric();
        single.addDimension('StreamId', s.streamId);
        single.addMetric(m.bitrate, MetricUnit.BitsPerSecond, s.bitrateBps);
        single.addMetric(m.srtLossPercent, MetricUnit.Percent, s.lossPercent);
        single.addMetric(m.srtRttMs, MetricUnit.Milliseconds, s.rttMs);
        if (s.speed !== null) single.addMetric(m.transcoderSpeed, MetricUnit.Count, s.speed);
        single.publishStoredMetrics();
      }
    },
    streamDown(streamId) {
      const single = metrics.singleMetric();
      single.addDimension('StreamId', streamId);
      single.addMetric(m.streamDown, MetricUnit.Count, 1);
      single.publishStoredMetrics();
    },
  };
}
