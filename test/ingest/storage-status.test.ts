import { describe, expect, it } from 'vitest';
import { emfMetrics } from '../../containers/ingest/src/metrics.js';
import {
  buildStreamStatus,
  initialTraffic,
  type StreamSnapshot,
} from '../../containers/ingest/src/service/reporter.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';
import type { RenditionStorageReport } from '../../core/media/rendition-sink.js';
import { MetricNames } from '../../core/metric-names.js';
import { IngestStatus } from '../../core/streams/status.js';
import { StreamStatusSchema } from '../../functions/control/schemas.js';
import { statusView } from '../../functions/control/views.js';
import { captureStdout } from '../support/emf.js';

const report = (rendition: string, over: Partial<RenditionStorageReport> = {}): RenditionStorageReport => ({
  rendition,
  state: 'ok',
  failedWrites: 0,
  lostParts: 0,
  pendingSegments: 0,
  folder: 'mh3k2x9a7q4f',
  ...over,
});

const snapshot = (storage?: RenditionStorageReport[]): StreamSnapshot => ({
  taskId: 'task-a',
  conn: { id: 7, streamId: 'cam', peer: '192.0.2.1:4000' },
  fatal: null,
  connectedAt: 0,
  pipeline: { state: 'running', renditions: ['720p', '360p'], generation: 1 } as unknown as PipelineStatus,
  traffic: initialTraffic(0),
  now: new Date(0),
  ...(storage ? { storage } : {}),
});

describe('storage health in the stream status (decision D21)', () => {
  it('the stream reads its worst rendition: a rendition that cannot publish is never hidden behind live', () => {
    const status = buildStreamStatus(
      snapshot([
        report('720p', { state: 'init-failed', failedWrites: 4, lastError: 'TimeoutError: aborted' }),
        report('360p', { state: 'degraded', lostParts: 3 }),
      ]),
    );
    expect(status.state).toBe('live');
    expect(status.storage).toMatchObject({
      state: 'init-failed',
      renditions: [
        { rendition: '720p', state: 'init-failed', failedWrites: 4 },
        { rendition: '360p', state: 'degraded', lostParts: 3 },
      ],
    });
    expect(IngestStatus.parse(JSON.parse(JSON.stringify(status)))).toEqual(status);
    expect(
      buildStreamStatus(snapshot([report('720p'), report('360p', { state: 'degraded' })])).storage?.state,
    ).toBe('degraded');
    expect(buildStreamStatus(snapshot())).not.toHaveProperty('storage');
  });

  it('the control API shows it beside the state, within its response schema', () => {
    const status = buildStreamStatus(snapshot([report('720p', { state: 'init-failed', failedWrites: 2 })]));
    const view = statusView(IngestStatus.parse(status), 'task-a');
    expect(view).toMatchObject({
      state: 'live',
      storage: {
        state: 'init-failed',
        renditions: [{ rendition: '720p', state: 'init-failed', failedWrites: 2 }],
      },
    });
    expect(StreamStatusSchema.parse(view)).toEqual(view);
    expect(statusView(undefined, 'task-a').storage).toBeUndefined();
  });
});

describe('storage and publish counters in the ingest EMF (decision D21)', () => {
  const { lines } = captureStdout();
  const m = MetricNames.ingest;

  it('counts on every task line, zeros included, and starts again from zero', () => {
    const sink = emfMetrics('metrics-test', 'task-1');
    const where = { streamId: 'cam', rendition: '720p' };
    sink.packagerEvent({ ...where, kind: 'write-failed', key: 'k', mediaClass: 'part', error: 'x' });
    sink.packagerEvent({ ...where, kind: 'write-failed', key: 'k2', mediaClass: 'init', error: 'x' });
    sink.packagerEvent({ ...where, kind: 'parts-lost', count: 3, reason: 'no-keyframe' });
    sink.packagerEvent({ ...where, kind: 'publish-failed', error: 'READONLY' });
    sink.partPublished({ ...where, msn: 1, part: 0, arrivedAtMs: 0, publishedAtMs: 5 });
    sink.report({ activeStreams: 1, capacity: 8 }, []);
    sink.report({ activeStreams: 1, capacity: 8 }, []);
    const [first, second] = lines();
    expect(first).toMatchObject({
      [m.storageWriteFailures]: 2,
      [m.partsLost]: 3,
      [m.publishFailures]: 1,
      [m.partsPublished]: 1,
    });
    // Silence would read as an outage to the parts-published alarm: an idle minute is a 0, not a gap.
    expect(second).toMatchObject({
      [m.storageWriteFailures]: 0,
      [m.partsLost]: 0,
      [m.publishFailures]: 0,
      [m.partsPublished]: 0,
      [m.activeStreams]: 1,
    });
    expect(second!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Stage']]);
  });
});
