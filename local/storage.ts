import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { S3Storage } from '../core/adapters/storage/s3.js';
import type { HttpApp } from '../core/http.js';
import type { MediaStorage } from '../core/storage/index.js';
import { createMediaOrigin } from './edge/static-origin.js';
import type { IngestStorage } from './ingest-child.js';
import { freeTcpPort } from './ports.js';
import { type S3Handle, startLocalS3 } from './s3.js';
import { createS3MediaOrigin } from './s3-origin.js';
import type { Teardown } from './teardown.js';

/** `local`: the media directory (the disk twin of the bucket); `s3`: s3rver, through the S3 implementation. */
export type StorageKind = 'local' | 's3';

/** The bucket's name on s3rver. */
export const LOCAL_BUCKET = 'media';

/** The platform's media storage, as each part of it reaches it. */
export interface LocalStorage {
  /** The platform's own reads (the manifest app's hold logic, the fault suite's checks). */
  readonly storage: MediaStorage;
  /** The edge's storage origin. */
  readonly origin: HttpApp;
  /** How the ingest child is told where to write. */
  readonly ingest: IngestStorage;
  /** s3rver's handle with `s3`. */
  readonly s3?: S3Handle;
}

/**
 * Empties and prepares the chosen storage under dataDir (Redis starts empty every run, so objects from an earlier
 * run would only be orphans) and, for `s3`, starts s3rver; the teardown stops it.
 */
export async function startStorage(
  kind: StorageKind,
  dataDir: string,
  teardown: Teardown,
): Promise<LocalStorage> {
  const mediaDir = join(dataDir, kind === 's3' ? 's3' : 'media');
  rmSync(mediaDir, { recursive: true, force: true });
  mkdirSync(mediaDir, { recursive: true });
  if (kind === 'local') {
    return {
      storage: new LocalDiskStorage(mediaDir),
      origin: createMediaOrigin(mediaDir),
      ingest: { kind: 'local', mediaDir },
    };
  }
  const s3 = await startLocalS3(
    { port: await freeTcpPort(), directory: mediaDir, bucket: LOCAL_BUCKET },
    teardown,
  );
  return {
    storage: new S3Storage(s3.client(), s3.bucket),
    origin: createS3MediaOrigin(s3.client(), s3.bucket),
    ingest: { kind: 's3', endpoint: s3.endpoint, bucket: s3.bucket },
    s3,
  };
}

/**
 * The platform's media as its origins serve it: a read goes through the manifest app, which answers parts from the
 * part store in Redis (or storage, or their segment) and segments and init segments from storage (decision D33), so a
 * check that "everything advertised is stored" (the fault suite) sees parts that are not storage objects; writes go
 * to storage.
 */
export function mediaAsServed(manifest: HttpApp, storage: MediaStorage): MediaStorage {
  return {
    put: (key, bytes, mediaClass) => storage.put(key, bytes, mediaClass),
    async get(key) {
      const response = await manifest.handle({ method: 'GET', path: `/${key}`, query: {}, headers: {} });
      if (response.status === 200 && response.body instanceof Uint8Array) return response.body;
      return response.status === 404 ? undefined : Promise.reject(new Error(`${key}: ${response.status}`));
    },
  };
}
