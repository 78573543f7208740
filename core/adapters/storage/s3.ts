import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  contentTypeOf,
  IMMUTABLE_CACHE_CONTROL,
  MEDIA_CLASS_TAG,
  type MediaClass,
} from '../../storage/keys.js';
import { assertSafeKey, type MediaStorage } from '../../storage/storage.js';

/** Media in S3: one PUT per object (S3 makes it visible whole), with Content-Type, Cache-Control and class tag. */
export class S3Storage implements MediaStorage {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void> {
    assertSafeKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: contentTypeOf(mediaClass),
        CacheControl: IMMUTABLE_CACHE_CONTROL,
        Tagging: `${MEDIA_CLASS_TAG}=${mediaClass}`,
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body === undefined ? undefined : await out.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
