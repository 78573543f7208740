import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { HttpApp, HttpRequest, HttpResponse } from '../core/http.js';
import { assertSafeKey } from '../core/storage/index.js';

const text = (status: number, body: string): HttpResponse => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  body: `${body}\n`,
});

/** The key of a media URL path (D2: the URL path without its leading slash is the key), or undefined. */
function keyOf(path: string): string | undefined {
  let key: string;
  try {
    key = decodeURIComponent(path).replace(/^\//, '');
    assertSafeKey(key);
  } catch {
    return undefined;
  }
  return key;
}

/**
 * The media bucket as the edge's storage origin when the platform runs on S3 (s3rver): GET and HEAD answered with
 * the Content-Type and Cache-Control stored with the object, as CloudFront passes S3's. A missing object is a 404
 * (the origin group's failover status); an unreachable endpoint a 502, as CloudFront answers when it cannot
 * connect to its origin (not a failover status: the manifest function cannot help).
 */
export function createS3MediaOrigin(client: S3Client, bucket: string): HttpApp {
  return {
    async handle(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
      if (request.method !== 'GET' && request.method !== 'HEAD') return text(404, 'not found');
      const key = keyOf(request.path);
      if (key === undefined) return text(404, 'not found');
      try {
        if (request.method === 'HEAD') {
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
            abortSignal: signal,
          });
          return { status: 200, headers: headersOf(head), body: '' };
        }
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        const body = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
        return { status: 200, headers: headersOf(object), body };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || status === 403) return text(status, 'not found');
        return text(502, `storage unreachable: ${(error as Error).name}`);
      }
    },
  };
}

function headersOf(object: { ContentType?: string; CacheControl?: string }): Record<string, string> {
  return {
    'content-type': object.ContentType ?? 'application/octet-stream',
    ...(object.CacheControl === undefined ? {} : { 'cache-control': object.CacheControl }),
  };
}
