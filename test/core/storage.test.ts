import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { S3Storage } from '../../core/adapters/storage/s3.js';
import {
  IMMUTABLE_CACHE_CONTROL,
  type MediaStorage,
  mediaKeys,
  StorageKeyError,
} from '../../core/storage/index.js';
import { type S3Server, startS3 } from '../support/s3.js';

/** A broadcast id (decision D16): every media key has one. */
const B = 'mh3k2x9a7q4f';
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * seed) & 0xff);

function contract(name: string, make: () => MediaStorage) {
  describe(`${name}: MediaStorage contract`, () => {
    it('reads back exactly what was put', async () => {
      const storage = make();
      const key = mediaKeys.part('cam-1', '360p', B, 3, 2);
      await storage.put(key, bytes(70_000, 7), 'part');
      expect(await storage.get(key)).toEqual(bytes(70_000, 7));
    });

    it('answers undefined for a missing key', async () => {
      expect(await make().get(mediaKeys.segment('cam-1', '360p', B, 999))).toBeUndefined();
    });

    it('refuses keys that escape the stream prefix', async () => {
      await expect(make().put('../etc/passwd', bytes(1), 'part')).rejects.toBeInstanceOf(StorageKeyError);
      await expect(make().get('/abs')).rejects.toBeInstanceOf(StorageKeyError);
    });
  });
}

describe('storage', () => {
  let dir: string;
  let s3: S3Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-storage-'));
    s3 = await startS3();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await s3.stop();
  });

  contract('LocalDiskStorage', () => new LocalDiskStorage(dir));
  contract('S3Storage (s3rver)', () => new S3Storage(s3.client(), s3.bucket));

  it('local disk leaves no temporary files behind (writes are temp file + rename)', async () => {
    const storage = new LocalDiskStorage(dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        storage.put(mediaKeys.part('tmp', 'r', B, 0, i), bytes(5000), 'part'),
      ),
    );
    const files = await readdir(join(dir, 'tmp', 'r', B));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(20);
  });

  it('local disk: a concurrent reader sees no file or the whole file, never part of it', async () => {
    const storage = new LocalDiskStorage(dir);
    const key = mediaKeys.segment('atomic', 'r', B, 1);
    const big = bytes(4 * 1024 * 1024, 3);
    const write = storage.put(key, big, 'segment');
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      const got = await storage.get(key);
      seen.push(got?.byteLength ?? 0);
      if (got !== undefined) break;
      await new Promise((r) => setImmediate(r));
    }
    await write;
    expect(seen.every((n) => n === 0 || n === big.byteLength)).toBe(true);
  });

  it('S3 objects carry Content-Type, immutable Cache-Control and the mirror-class tag', async () => {
    const client = s3.client();
    // s3rver keeps Content-Type and Cache-Control but ignores x-amz-tagging on PUT: check the tag on the wire.
    const tagging: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers?.['x-amz-tagging'] !== undefined) tagging.push(request.headers['x-amz-tagging']);
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const storage = new S3Storage(client, s3.bucket);
    const key = mediaKeys.init('cam-1', '360p', B, 2);
    await storage.put(key, bytes(900), 'init');
    const partKey = mediaKeys.part('cam-1', '360p', B, 0, 0);
    await storage.put(partKey, bytes(900), 'part');
    const head = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.ContentType).toBe('video/mp4');
    expect(head.CacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
    const partHead = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: partKey }));
    expect(partHead.ContentType).toBe('video/iso.segment');
    // A recording's playlist shares the recording class with its chunks (D40), and is typed as a playlist.
    const playlistKey = `cam-1/360p/${B}/recording.m3u8`;
    await storage.put(playlistKey, bytes(100), 'recording');
    const playlistHead = await s3
      .client()
      .send(new HeadObjectCommand({ Bucket: s3.bucket, Key: playlistKey }));
    expect(playlistHead.ContentType).toBe('application/vnd.apple.mpegurl');
    expect(tagging).toEqual(['mirror-class=init', 'mirror-class=part', 'mirror-class=recording']);
  });
});
