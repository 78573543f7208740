import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_DIMENSION_STAGE, METRIC_NAMESPACE, MetricNames } from '../../../core/metric-names.js';
import type { PackagerEvent, PartPublished } from '../../../core/packager/index.js';
import type { IngestMetricsSink, InputStatsReport } from './service/reporter.js';

/** The input figures of decision D42 on a stream's line; figures not measured yet are left out, not zero. */
function addInputMetrics(metrics: Metrics, input: InputStatsReport, continuityBefore: number): void {
  const m = MetricNames.ingest;
  const ms = MetricUnit.Milliseconds;
  if (input.avOffsetMs !== null) metrics.addMetric(m.inputAvOffsetMs, ms, input.avOffsetMs);
  if (input.avDriftMsPerMin !== null) {
    metrics.addMetric(m.inputAvDriftMsPerMinute, MetricUnit.Count, input.avDriftMsPerMin);
  }
  if (input.gop !== null) metrics.addMetric(m.inputGopMs, ms, input.gop.ms);
  if (input.frameIntervalJitterMs !== null) {
    metrics.addMetric(m.inputFrameJitterMs, ms, input.frameIntervalJitterMs);
  }
  // A new connection starts its count from zero: then the whole count is new.
  const fresh = input.continuityErrors - continuityBefore;
  metrics.addMetric(m.inputContinuityErrors, MetricUnit.Count, fresh >= 0 ? fresh : input.continuityErrors);
  if (input.queuePercent !== undefined) {
    metrics.addMetric(m.inputQueuePercent, MetricUnit.Percent, input.queuePercent);
  }
}

/**
 * CloudWatch embedded metric format on stdout (the awslogs driver ships it; CloudWatch extracts the metrics):
 * namespace Mirror, dimension Stage, per-stream metrics also by StreamId. Names from core/metric-names.ts, which the
 * infrastructure's dashboard and alarms read.
 */
export function emfMetrics(
  stage: string,
  taskId: string,
): IngestMetricsSink & {
  partPublished: (part: PartPublished) => void;
  packagerEvent: (event: PackagerEvent) => void;
  gpuUtilization: NonNullable<IngestMetricsSink['gpuUtilization']>;
} {
  const metrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: 'ingest',
    defaultDimensions: { [METRIC_DIMENSION_STAGE]: stage },
  });
  const m = MetricNames.ingest;
  // Its own instance: a GPU line goes out at once with its three values (a singleMetric() writes one line per
  // value), without flushing the part latencies stored on `metrics` for the task line.
  const gpuMetrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: 'ingest',
    defaultDimensions: { [METRIC_DIMENSION_STAGE]: stage },
  });
  const streamMetrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: 'ingest',
    defaultDimensions: { [METRIC_DIMENSION_STAGE]: stage },
  });
  // Counted between task lines and written on every one, zeros included (decision D21): an alarm can then tell
  // "nothing happened" (0) from "the ingest is silent" (no data).
  const counts = { partsPublished: 0, storageWriteFailures: 0, partsLost: 0, publishFailures: 0 };
  // Each stream's continuity error total at its last line: the metric is the increase (an alarm sums it). Only
  // streams of the current report are kept, so the map is bounded by the task's streams.
  let continuitySeen = new Map<string, number>();
  return {
    // Stored, not written: the values go out with the next task line (or at Powertools' 100 values per metric),
    // so CloudWatch gets every part's latency for percentiles without a log line per part.
    partPublished: (part) => {
      counts.partsPublished += 1;
      metrics.addMetric(
        m.partPublishLatencyMs,
        MetricUnit.Milliseconds,
        part.publishedAtMs - part.arrivedAtMs,
      );
    },
    packagerEvent(event) {
      if (event.kind === 'write-failed') counts.storageWriteFailures += 1;
      else if (event.kind === 'parts-lost') counts.partsLost += event.count;
      else counts.publishFailures += 1;
    },
    report(task, streams) {
      metrics.addMetric(m.activeStreams, MetricUnit.Count, task.activeStreams);
      for (const [name, value] of Object.entries(counts) as [keyof typeof counts, number][]) {
        metrics.addMetric(m[name], MetricUnit.Count, value);
        counts[name] = 0;
      }
      metrics.addMetric(
        m.sessionUtilization,
        MetricUnit.Percent,
        task.capacity > 0 ? (100 * task.activeStreams) / task.capacity : 0,
      );
      metrics.addMetadata('taskId', taskId);
      metrics.publishStoredMetrics();
      // One line per stream with all its values (singleMetric() would write a line per value).
      const continuityNow = new Map<string, number>();
      for (const s of streams) {
        streamMetrics.addDimension('StreamId', s.streamId);
        streamMetrics.addMetric(m.bitrate, MetricUnit.BitsPerSecond, s.bitrateBps);
        streamMetrics.addMetric(m.srtLossPercent, MetricUnit.Percent, s.lossPercent);
        streamMetrics.addMetric(m.srtRttMs, MetricUnit.Milliseconds, s.rttMs);
        if (s.speed !== null) streamMetrics.addMetric(m.transcoderSpeed, MetricUnit.Count, s.speed);
        if (s.input) addInputMetrics(streamMetrics, s.input, continuitySeen.get(s.streamId) ?? 0);
        if (s.input) continuityNow.set(s.streamId, s.input.continuityErrors);
        streamMetrics.publishStoredMetrics(); // also clears the StreamId dimension
      }
      continuitySeen = continuityNow;
    },
    // One line per sample (every MIRROR_GPU_SAMPLE_S), stamped when it was taken; N/A engines left out.
    gpuUtilization(u) {
      if (u.gpuPercent === null && u.encoderPercent === null && u.decoderPercent === null) return;
      if (u.gpuPercent !== null)
        gpuMetrics.addMetric(m.gpuUtilizationPercent, MetricUnit.Percent, u.gpuPercent);
      if (u.encoderPercent !== null) {
        gpuMetrics.addMetric(m.gpuEncoderUtilizationPercent, MetricUnit.Percent, u.encoderPercent);
      }
      if (u.decoderPercent !== null) {
        gpuMetrics.addMetric(m.gpuDecoderUtilizationPercent, MetricUnit.Percent, u.decoderPercent);
      }
      gpuMetrics.addMetadata('taskId', taskId);
      gpuMetrics.addMetadata('gpus', u.gpus.map((g) => g.index).join(','));
      gpuMetrics.publishStoredMetrics();
    },
    streamDown(streamId) {
      const single = metrics.singleMetric();
      single.addDimension('StreamId', streamId);
      single.addMetric(m.streamDown, MetricUnit.Count, 1);
      single.publishStoredMetrics();
    },
  };
}
