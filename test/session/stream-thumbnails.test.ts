import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildStreamStatus, initialTraffic } from '../../containers/ingest/src/service/reporter.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';
import { streamKeys } from '../../core/streams/keys.js';
import { IngestStatus } from '../../core/streams/status.js';
import { StreamStatusSchema } from '../../functions/control/schemas.js';
import { statusView } from '../../functions/control/views.js';
import type { createSessionApp } from '../../functions/session/app.js';
import { PublicStreams } from '../../functions/session/schemas.js';
import { call, request } from '../control/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { createStreams, PROTECTED, sessionApp } from './helpers.js';

/** The ingest's report of a running pipeline with thumbnail outputs (decision D41). */
function reported(thumbnailUrl?: string): IngestStatus {
  return buildStreamStatus({
    taskId: 'task-a',
    conn: { id: 7, streamId: 'cam', peer: '192.0.2.1:4000' },
    fatal: null,
    connectedAt: 0,
    pipeline: {
      state: 'running',
      renditions: ['360p'],
      generation: 1,
      ...(thumbnailUrl ? { thumbnailUrl } : {}),
    } as unknown as PipelineStatus,
    traffic: initialTraffic(0),
    now: new Date(0),
  });
}

describe('thumbnailUrl in the stream status (D41)', () => {
  it('goes from the ingest report through Redis JSON to the control API, within its schema', () => {
    const status = IngestStatus.parse(JSON.parse(JSON.stringify(reported('/cam/thumbnail-320.jpg'))));
    const view = StreamStatusSchema.parse(statusView(status, 'task-a'));
    expect(view.thumbnailUrl).toBe('/cam/thumbnail-320.jpg');
    expect(statusView(reported(), 'task-a').thumbnailUrl).toBeUndefined();
  });
});

describe('thumbnailUrl in the viewer stream list (D41)', () => {
  let redis: Redis;
  let app: ReturnType<typeof createSessionApp>;
  useRedisServer((_server, client) => {
    redis = client;
    app = sessionApp(redis, PROTECTED);
  });
  beforeEach(async () => {
    await redis.flushall();
    await createStreams(redis, ['a', 'b'], (id) => id.toUpperCase());
    await redis.set(streamKeys.status('a'), JSON.stringify(reported('/a/thumbnail-320.jpg')));
  });

  it('names the live stream’s picture and none for an idle one', async () => {
    const r = await call(app, {
      ...request('GET', '/api/sessions/streams', undefined, {}),
      sourceIp: '10.0.0.9',
    });
    expect(r.status).toBe(200);
    expect(PublicStreams.parse(r.json).streams).toEqual([
      {
        id: 'a',
        name: 'A',
        live: true,
        renditions: ['360p'],
        thumbnailUrl: '/a/thumbnail-320.jpg',
        dvrUrl: '/a/dvr.m3u8',
      },
      expect.not.objectContaining({ thumbnailUrl: expect.anything() }),
    ]);
    // Idle: no DVR window to name either (D43).
    expect(PublicStreams.parse(r.json).streams[1]).not.toHaveProperty('dvrUrl');
  });
});
