import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { LocalRecordingObjects } from '../../core/adapters/storage/local-recordings.js';
import { recordingId } from '../../core/contracts/names.js';
import { CloudFrontInvalidation } from '../../functions/control/aws-ports.js';
import { recordBroadcasts, useRecordingScratch } from '../support/recordings.js';
import { call, controlApp, request } from './helpers.js';

const B1 = 'mh3k2x9a7q4f';
const B2 = 'mh3k4c1bx0z2';

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('recordings API (real redis-server, local storage, real ffmpeg media)', () => {
  const cfMock = mockClient(CloudFrontClient);
  const invalidation = new CloudFrontInvalidation(
    new CloudFrontClient({ region: 'us-east-1' }),
    'E2EXAMPLE',
    () => 'ref-1',
  );
  const scratch = useRecordingScratch('mirror-rec-api-');

  it('lists newest first by page, reads one, deletes every object, the index entry and the edge copies', async () => {
    const { redis, dir, source } = scratch;
    const storage = new LocalDiskStorage(dir);
    await recordBroadcasts(
      { storage, redis, streamId: 'cam-1', renditions: ['720p', '360p'] },
      [B1, B2],
      source,
    );
    const app = controlApp(redis, { recordings: new LocalRecordingObjects(dir), invalidation });

    const page1 = await call(
      app,
      request('GET', '/api/control/streams/cam-1/recordings', undefined, undefined, { limit: '1' }),
    );
    expect(page1.status).toBe(200);
    expect(page1.json.recordings.map((r: { id: string }) => r.id)).toEqual([recordingId('cam-1', B2)]);
    const page2 = await call(
      app,
      request('GET', '/api/control/streams/cam-1/recordings', undefined, undefined, {
        limit: '1',
        cursor: page1.json.nextCursor,
      }),
    );
    expect(page2.json).toMatchObject({ recordings: [{ id: recordingId('cam-1', B1) }], nextCursor: null });

    const id = recordingId('cam-1', B1);
    const one = await call(app, request('GET', `/api/control/recordings/${id}`));
    expect(one.status).toBe(200);
    expect(one.json.recording).toMatchObject({
      id,
      status: 'complete',
      playbackUrl: `/cam-1/recording-${B1}.m3u8`,
    });
    expect(one.json.recording.bytes).toBeGreaterThan(10_000);

    const bad = await call(app, request('GET', '/api/control/recordings/nodash'));
    expect([bad.status, bad.json.error?.field ?? bad.json.field]).toEqual([400, 'recordingId']);
    expect((await call(app, request('GET', '/api/control/recordings/cam-1-zzzzzzzzzzzz'))).status).toBe(404);

    cfMock
      .on(CreateInvalidationCommand)
      .resolves({ Invalidation: { Id: 'I1', Status: 'InProgress' } as never });
    const before = await files(dir);
    const deleted = await call(app, request('DELETE', `/api/control/recordings/${id}`));
    expect(deleted.status).toBe(200);
    const after = await files(dir);
    const gone = before.filter((f) => !after.includes(f));
    expect(gone.length).toBe(deleted.json.deletedObjects);
    // Every object of B1 is gone; B2's are all still there.
    expect(after.filter((f) => f.includes(B1))).toEqual([]);
    expect(after.filter((f) => f.includes(B2)).length).toBe(before.filter((f) => f.includes(B2)).length);
    expect(cfMock.commandCalls(CreateInvalidationCommand)[0]?.args[0].input).toEqual({
      DistributionId: 'E2EXAMPLE',
      InvalidationBatch: {
        CallerReference: 'ref-1',
        Paths: {
          Quantity: 3,
          Items: [`/cam-1/recording-${B1}.m3u8`, `/cam-1/720p/${B1}/rec*`, `/cam-1/360p/${B1}/rec*`],
        },
      },
    });
    expect((await call(app, request('GET', `/api/control/recordings/${id}`))).status).toBe(404);
    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(audit.json.entries[0]).toMatchObject({ action: 'deleteRecording', target: id, status: 200 });
  }, 30_000);
});
