import { assertSafeKey } from '../../storage/storage.js';
import { loadS3 } from '../aws-sdk.js';
import { type S3ClientSource, S3Storage } from './s3.js';

/** S3 DeleteObjects takes at most 1,000 keys a request. */
export const DELETE_BATCH = 1000;

/**
 * Recordings' objects in the media bucket (decision D40), for the control API's delete: playlists read through the
 * media storage's get, objects removed with DeleteObjects in batches of 1,000 (a 4 h 1080p recording is about 2,400
 * chunks, so 3 requests instead of 2,400). Quiet mode: S3 answers only the keys it failed to delete, and any
 * failure is thrown, so the index entry is kept and a retried delete finishes the job (a missing key is no error).
 */
export class S3RecordingObjects {
  private readonly storage: S3Storage;

  constructor(
    private readonly client: S3ClientSource,
    readonly bucket: string,
  ) {
    this.storage = new S3Storage(client, bucket);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.storage.get(key);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertSafeKey(key);
    const source = this.client;
    const [client, { DeleteObjectsCommand }] = await Promise.all([
      typeof source === 'function' ? source() : Promise.resolve(source),
      loadS3(),
    ]);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `S3 did not delete ${failed.length} of ${batch.length} objects (${first?.Key}: ${first?.Code} ${first?.Message})`,
        );
      }
    }
  }
}
