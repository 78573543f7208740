import { GraphWidget, type IMetric, type IWidget, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { MetricNames } from '../../../core/metric-names.js';
import type { PlatformMetrics } from './metrics.js';

const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
  new GraphWidget({ title, left, right, width: 12, height: 6 });

/** The operators' dashboard, row by row: ingest, transcoding, playlists and errors, CDN and Redis, GPU. */
export function dashboardRows(
  metrics: PlatformMetrics,
  props: { stage: string; functionNames: readonly string[] },
): IWidget[][] {
  const m = MetricNames;
  return [
    [new TextWidget({ markdown: `# Mirror ${props.stage}`, width: 24, height: 1 })],
    [
      graph(
        'Ingest bitrate per stream',
        [metrics.perStream(m.ingest.bitrate, 'Average', 'bitrate')],
        [metrics.ingest(m.ingest.activeStreams, 'Sum', 'active streams')],
      ),
      graph(
        'SRT loss (%) and RTT (ms) per stream',
        [metrics.perStream(m.ingest.srtLossPercent, 'Maximum', 'loss %')],
        [metrics.perStream(m.ingest.srtRttMs, 'Average', 'RTT ms')],
      ),
    ],
    [
      graph('Transcoder speed (x real time)', [
        metrics.perStream(m.ingest.transcoderSpeed, 'Minimum', 'speed'),
      ]),
      graph('Part publish latency (ms)', [
        metrics.ingest(m.ingest.partPublishLatencyMs, 'p50', 'p50'),
        metrics.partLatencyP99(),
      ]),
    ],
    [
      // The input as the encoder sends it (decision D42): sync and timing problems show here before viewers see them.
      graph(
        'Input A/V offset (ms) and drift (ms/min) per stream',
        [metrics.perStream(m.ingest.inputAvOffsetMs, 'Average', 'A/V offset ms')],
        [metrics.perStream(m.ingest.inputAvDriftMsPerMinute, 'Average', 'drift ms/min')],
      ),
      graph(
        'Input GOP (ms), frame jitter (ms); continuity errors, queue (%)',
        [
          metrics.perStream(m.ingest.inputGopMs, 'Maximum', 'GOP ms'),
          metrics.perStream(m.ingest.inputFrameJitterMs, 'Maximum', 'frame jitter ms'),
        ],
        [
          metrics.perStream(m.ingest.inputContinuityErrors, 'Sum', 'continuity errors'),
          metrics.perStream(m.ingest.inputQueuePercent, 'Maximum', 'queue %'),
        ],
      ),
    ],
    [
      graph(
        'Parts published; parts lost',
        [metrics.ingest(m.ingest.partsPublished, 'Sum', 'parts published')],
        [metrics.ingest(m.ingest.partsLost, 'Sum', 'parts lost')],
      ),
      graph('Storage writes given up; live-state publishes failed', [
        metrics.ingest(m.ingest.storageWriteFailures, 'Sum', 'storage writes given up'),
        metrics.ingest(m.ingest.publishFailures, 'Sum', 'publishes failed'),
      ]),
    ],
    [
      graph(
        'Playlist latency and blocking waits (ms)',
        [
          metrics.manifest(m.manifest.playlistLatencyMs, 'p50', 'playlist p50'),
          metrics.manifest(m.manifest.playlistLatencyMs, 'p99', 'playlist p99'),
          metrics.manifest(m.manifest.blockingWaitMs, 'p99', 'blocking wait p99'),
        ],
        [metrics.manifest(m.manifest.blockingTimeouts, 'Sum', 'blocking timeouts')],
      ),
      graph(
        '4xx / 5xx',
        [
          metrics.api('4xx'),
          metrics.api('5xx'),
          metrics.manifestUrl('Url4xxCount'),
          metrics.manifestUrl('Url5xxCount'),
        ],
        props.functionNames.map((name) => metrics.functionErrors(name)),
      ),
    ],
    [
      graph('CloudFront error rate (%)', [
        metrics.cloudFront('4xxErrorRate'),
        metrics.cloudFront('5xxErrorRate'),
        metrics.cloudFront('TotalErrorRate'),
      ]),
      graph(
        'Redis CPU and memory (%)',
        metrics.redis('EngineCPUUtilization'),
        metrics.redis('DatabaseMemoryUsagePercentage'),
      ),
    ],
    [
      graph(
        'GPU use (%)',
        [
          metrics.ingest(m.ingest.gpuUtilizationPercent, 'Average', 'GPU avg'),
          metrics.ingest(m.ingest.gpuUtilizationPercent, 'Maximum', 'GPU max'),
        ],
        [metrics.ingest(m.ingest.sessionUtilization, 'Average', 'NVENC session slots used %')],
      ),
      graph('NVENC / NVDEC engine use (%)', [
        metrics.ingest(m.ingest.gpuEncoderUtilizationPercent, 'Average', 'NVENC avg'),
        metrics.ingest(m.ingest.gpuEncoderUtilizationPercent, 'Maximum', 'NVENC max'),
        metrics.ingest(m.ingest.gpuDecoderUtilizationPercent, 'Maximum', 'NVDEC max'),
      ]),
    ],
  ];
}
