import { describe, expect, it } from 'vitest';
import { emfMetrics } from '../../containers/ingest/src/metrics.js';
import { METRIC_NAMESPACE, MetricNames } from '../../core/metric-names.js';
import { captureStdout } from '../support/emf.js';

describe('ingest EMF metrics', () => {
  const { lines, text } = captureStdout();
  const published = (arrivedAtMs: number, publishedAtMs: number) => ({
    streamId: 'cam',
    rendition: '720p',
    msn: 1,
    part: 0,
    arrivedAtMs,
    publishedAtMs,
  });

  it('collects PartPublishLatencyMs per part and writes the values with the task line, by service and Stage', () => {
    const sink = emfMetrics('metrics-test', 'task-1');
    sink.partPublished(published(1000, 1012));
    sink.partPublished(published(2000, 2030));
    sink.partPublished(published(3000, 3007));
    expect(lines()).toEqual([]); // no line per part
    sink.report({ activeStreams: 1, capacity: 8 }, []);
    const [line, ...more] = lines();
    expect(more).toEqual([]);
    const directive = line!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service', 'Stage']]);
    expect(line).toMatchObject({ service: 'ingest', Stage: 'metrics-test' });
    expect(directive.Metrics.map((m) => m.Name)).toContain(MetricNames.ingest.partPublishLatencyMs);
    expect(line![MetricNames.ingest.partPublishLatencyMs]).toEqual([12, 30, 7]);
  });

  it('writes one line per stream with all its values, by StreamId, and nothing else', () => {
    const sink = emfMetrics('metrics-test', 'task-1');
    const stream = (streamId: string, speed: number | null) => ({
      streamId,
      bitrateBps: 4_000_000,
      lossPercent: 0.5,
      rttMs: 20,
      speed,
    });
    sink.report({ activeStreams: 2, capacity: 8 }, [stream('cam-1', 1.01), stream('cam-2', null)]);
    const [, ...streamLines] = lines();
    expect(streamLines).toHaveLength(2);
    const [first, second] = streamLines;
    expect(first).toMatchObject({ StreamId: 'cam-1', Stage: 'metrics-test' });
    expect(first!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Stage', 'StreamId']]);
    const m = MetricNames.ingest;
    expect(first!._aws.CloudWatchMetrics[0]!.Metrics.map((x) => x.Name).sort()).toEqual(
      [m.bitrate, m.srtLossPercent, m.srtRttMs, m.transcoderSpeed].sort(),
    );
    expect(second).toMatchObject({ StreamId: 'cam-2', [m.bitrate]: 4_000_000 });
    expect(second).not.toHaveProperty(m.transcoderSpeed);
    expect(text()).not.toContain('No application metrics');
  });

  it('adds the input A/V figures to the stream line, continuity errors as the increase since the last line', () => {
    const sink = emfMetrics('metrics-test', 'task-1');
    const input = (continuityErrors: number) => ({
      avOffsetMs: 12.5,
      avDriftMsPerMin: null,
      startOffsetMs: 0,
      gop: { frames: 30, ms: 1000, minFrames: 30, maxFrames: 30, stddevFrames: 0, count: 4 },
      bFrames: false,
      fps: 30,
      frameIntervalJitterMs: 0.4,
      arrivalJitterMs: 3,
      continuityErrors,
      videoFrames: 120,
      audioPackets: 100,
      queueBytes: 1000,
      queuePercent: 0.1,
    });
    const stream = (continuityErrors: number) => ({
      streamId: 'cam-1',
      bitrateBps: 1,
      lossPercent: 0,
      rttMs: 1,
      speed: null,
      input: input(continuityErrors),
    });
    const m = MetricNames.ingest;
    sink.report({ activeStreams: 1, capacity: 8 }, [stream(3)]);
    sink.report({ activeStreams: 1, capacity: 8 }, [stream(5)]);
    const [, first, , second] = lines();
    expect(first).toMatchObject({
      [m.inputAvOffsetMs]: 12.5,
      [m.inputGopMs]: 1000,
      [m.inputFrameJitterMs]: 0.4,
      [m.inputContinuityErrors]: 3,
      [m.inputQueuePercent]: 0.1,
    });
    expect(first).not.toHaveProperty(m.inputAvDriftMsPerMinute); // not measured yet: no value, not a zero
    expect(second).toMatchObject({ [m.inputContinuityErrors]: 2 });
  });

  it('flushes at 100 values (the EMF limit per metric) without waiting for the next report', () => {
    const sink = emfMetrics('metrics-test', 'task-1');
    for (let i = 0; i < 100; i++) sink.partPublished(published(0, i));
    const [line] = lines();
    expect((line![MetricNames.ingest.partPublishLatencyMs] as number[]).length).toBe(100);
  });
});
