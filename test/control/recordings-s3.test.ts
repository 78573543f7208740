import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../core/adapters/storage/s3.js';
import { DELETE_BATCH, S3RecordingObjects } from '../../core/adapters/storage/s3-recordings.js';
import { recordingId } from '../../core/contracts/names.js';
import { encodeTestSource } from '../support/media.js';
import { recordBroadcasts } from '../support/recordings.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { type S3Server, startS3 } from '../support/s3.js';
import { call, controlApp, request } from './helpers.js';

const B1 = 'mh3k2x9a7q4f';
const B2 = 'mh3k4c1bx0z2';

async function listAll(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(out.Contents ?? []).map((o) => o.Key ?? ''));
    token = out.NextContinuationToken;
  } while (token !== undefined);
  return keys.sort();
}

describe('recording delete on the S3 wire protocol (s3rver, real redis-server, real ffmpeg media)', () => {
  let redis: Redis;
  let s3: S3Server;
  let source: Uint8Array;
  useRedisServer((_server, client) => {
    redis = client;
  });
  beforeAll(async () => {
    [s3, source] = await Promise.all([startS3(), encodeTestSource(3)]);
  }, 30_000);
  afterAll(() => s3.stop());

  it('DELETE removes every object of the recording from the bucket and none of another', async () => {
    const client = s3.client();
    const storage = new S3Storage(client, s3.bucket);
    await recordBroadcasts(
      { storage, redis, streamId: 'cam-1', renditions: ['720p', '360p'] },
      [B1, B2],
      source,
    );
    // A live object next to them: the delete must not touch it either.
    await client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: `cam-1/720p/${B1}/seg-1.m4s`, Body: 'x' }),
    );
    const app = controlApp(redis, { recordings: new S3RecordingObjects(client, s3.bucket) });

    const before = await listAll(client, s3.bucket);
    expect(before.filter((k) => k.includes(B1)).length).toBeGreaterThan(4);
    const id = recordingId('cam-1', B1);
    const deleted = await call(app, request('DELETE', `/api/control/recordings/${id}`));
    expect(deleted.status).toBe(200);
    const after = await listAll(client, s3.bucket);
    expect(before.filter((k) => !after.includes(k))).toHaveLength(deleted.json.deletedObjects);
    expect(after.filter((k) => k.includes(B1))).toEqual([`cam-1/720p/${B1}/seg-1.m4s`]);
    expect(after.filter((k) => k.includes(B2))).toEqual(before.filter((k) => k.includes(B2)));
    expect((await call(app, request('GET', `/api/control/recordings/${id}`))).status).toBe(404);
  }, 30_000);

  it(`deletes in DeleteObjects batches of at most ${DELETE_BATCH} keys`, async () => {
    const client = s3.client();
    const batches: number[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Delete?: { Objects?: unknown[] } };
        if (input.Delete?.Objects) batches.push(input.Delete.Objects.length);
        return next(args);
      },
      { step: 'initialize' },
    );
    const keys = Array.from({ length: 1205 }, (_, i) => `cam-2/720p/${B1}/rec-${i}.m4s`);
    for (const key of keys.slice(1195)) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'x' }));
    }
    await new S3RecordingObjects(client, s3.bucket).delete(keys);
    expect(batches).toEqual([1000, 205]);
    expect((await listAll(client, s3.bucket)).filter((k) => k.startsWith('cam-2/'))).toEqual([]);
  }, 30_000);
});
