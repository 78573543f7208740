import type { S3Client } from '@aws-sdk/client-s3';
import { cacheControlOf, contentTypeOf, MEDIA_CLASS_TAG, type MediaClass } from '../../storage/keys.js';
import { assertSafeKey, type MediaStorage } from '../../storage/storage.js';
import { loadS3 } from '../aws-sdk.js';

/**
 * Deadline of one put, the SDK's own retries included (decision D21): 2 s plus 1 s per MiB. A part (tens to
 * hundreds of KB) normally takes tens of ms in-region, so 2 s is far past S3's tail latency, and the per-MiB term
 * keeps a multi-MB segment from being cut off at 8 Mbit/s or more. Without a deadline a request that S3 or the
 * network holds blocks the rendition's write queue for minutes (the socket's own timeouts); with it, the put fails
 * and the packager retries it, counts it and, in the end, never lists what it could not store.
 */
export const PUT_TIMEOUT_BASE_MS = 2000;
export const PUT_TIMEOUT_MS_PER_MIB = 1000;
/** A get (the packager's resume reads a few parts once) gets the same base deadline. */
export const GET_TIMEOUT_MS = PUT_TIMEOUT_BASE_MS;

export interface S3StorageOptions {
  /** Deadline of a put of `bytes`, ms; PUT_TIMEOUT_BASE_MS + PUT_TIMEOUT_MS_PER_MIB per MiB by default. */
  readonly putTimeoutMs?: (bytes: number) => number;
  readonly getTimeoutMs?: number;
}

export const defaultPutTimeoutMs = (bytes: number): number =>
  Math.ceil(PUT_TIMEOUT_BASE_MS + (PUT_TIMEOUT_MS_PER_MIB * bytes) / (1024 * 1024));

/**
 * The client, or a function that builds it on first use: the manifest function serves media from S3 only for a
 * hinted part, so it loads the S3 package on its first part request rather than at cold start (D26, amended).
 */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

/**
 * Media in S3: one PUT per object (S3 makes it visible whole), with Content-Type, Cache-Control and class tag. Every
 * request carries an abort signal with its deadline, so a held request fails instead of waiting on the socket.
 */
export class S3Storage implements MediaStorage {
  private readonly putTimeoutMs: (bytes: number) => number;
  private readonly getTimeoutMs: number;

  constructor(
    readonly client: S3ClientSource,
    readonly bucket: string,
    options: S3StorageOptions = {},
  ) {
    this.putTimeoutMs = options.putTimeoutMs ?? defaultPutTimeoutMs;
    this.getTimeoutMs = options.getTimeoutMs ?? GET_TIMEOUT_MS;
  }

  async put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void> {
    assertSafeKey(key);
    const [client, { PutObjectCommand }] = await Promise.all([this.connect(), loadS3()]);
    await client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: contentTypeOf(mediaClass, key),
        CacheControl: cacheControlOf(mediaClass, key),
        Tagging: `${MEDIA_CLASS_TAG}=${mediaClass}`,
      }),
      { abortSignal: AbortSignal.timeout(this.putTimeoutMs(bytes.byteLength)) },
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    const [client, { GetObjectCommand, NoSuchKey }] = await Promise.all([this.connect(), loadS3()]);
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(this.getTimeoutMs),
      });
      return out.Body === undefined ? undefined : await out.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private connect(): Promise<S3Client> {
    const source = this.client;
    return typeof source === 'function' ? source() : Promise.resolve(source);
  }
}
