import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../core/adapters/storage/s3.js';
import { IMMUTABLE_CACHE_CONTROL } from '../../core/storage/index.js';
import { freeTcpPort } from '../../local/ports.js';
import { type S3Handle, type StoredObject, startLocalS3 } from '../../local/s3.js';
import { createS3MediaOrigin } from '../../local/s3-origin.js';
import { Teardown } from '../../local/teardown.js';
import { running } from '../support/processes.js';

/** The platform's s3rver handle and the edge's S3 origin, as the fault suite uses them (`--storage s3`). */
let dir: string;
let teardown: Teardown;
let s3: S3Handle;
const stored: StoredObject[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-s3-handle-'));
  teardown = new Teardown((error) => {
    throw error;
  });
  s3 = await startLocalS3({ port: await freeTcpPort(), directory: dir, bucket: 'media' }, teardown);
  s3.onPut((object) => stored.push(object));
});

afterAll(async () => {
  const pids = teardown.pids();
  await teardown.run();
  for (const pid of pids) expect(running(pid), `pid ${pid}`).toBe(false);
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string, method = 'GET') =>
  createS3MediaOrigin(s3.client(), s3.bucket).handle({ method, path, query: {}, headers: {} });

describe('s3rver for the local platform', () => {
  it('serves stored media with the Content-Type and Cache-Control stored with it, 404 when missing', async () => {
    const storage = new S3Storage(s3.client(), s3.bucket);
    await storage.put('cam/360p/b1/part-0-0.m4s', new Uint8Array([1, 2, 3]), 'part');
    const hit = await get('/cam/360p/b1/part-0-0.m4s');
    expect(hit.status).toBe(200);
    expect(hit.headers).toMatchObject({
      'content-type': 'video/iso.segment',
      'cache-control': IMMUTABLE_CACHE_CONTROL,
    });
    expect([...(hit.body as Uint8Array)]).toEqual([1, 2, 3]);
    expect((await get('/cam/360p/b1/part-0-0.m4s', 'HEAD')).status).toBe(200);
    expect((await get('/cam/360p/b1/part-9-9.m4s')).status).toBe(404);
    expect((await get('/cam/../etc/passwd')).status).toBe(404);
  });

  it('reports every stored object, so a key written twice shows twice', async () => {
    const storage = new S3Storage(s3.client(), s3.bucket);
    stored.length = 0;
    await storage.put('cam/360p/b1/init-1.mp4', new Uint8Array([9]), 'init');
    await storage.put('cam/360p/b1/init-1.mp4', new Uint8Array([8]), 'init');
    await expect.poll(() => stored.length).toBe(2);
    expect(stored.map((o) => o.key)).toEqual(['cam/360p/b1/init-1.mp4', 'cam/360p/b1/init-1.mp4']);
    expect(stored[0]?.etag).not.toBe(stored[1]?.etag);
  });

  it('stops (the edge answers 502, not a failover status) and starts again with its objects kept', async () => {
    await s3.stop();
    expect(s3.running).toBe(false);
    expect((await get('/cam/360p/b1/part-0-0.m4s')).status).toBe(502);
    await s3.start();
    expect((await get('/cam/360p/b1/part-0-0.m4s')).status).toBe(200);
  });
});
