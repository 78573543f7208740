import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { freePort } from './ports.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  client(): S3Client;
  stop(): Promise<void>;
}

/** Starts s3rver, a local server speaking the S3 wire protocol, with one empty bucket. */
export async function startS3(bucket = 'media'): Promise<S3Server> {
  const port = await freePort();
  const directory = await mkdtemp(join(tmpdir(), 'mirror-s3-'));
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = () =>
    new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  await client().send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    client,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
