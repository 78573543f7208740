import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';
import { type Managed, signalAndWait, startManaged } from './processes.js';
import { ROOT } from './root.js';
import type { Teardown } from './teardown.js';

/** One object s3rver stored: its key and its ETag (the MD5 of its bytes). */
export interface StoredObject {
  readonly key: string;
  readonly etag: string | undefined;
}

/** The platform's S3 endpoint (s3rver), which the fault suite can stop and start again. */
export interface S3Handle {
  readonly endpoint: string;
  readonly bucket: string;
  readonly running: boolean;
  /** A client for this endpoint: path-style, with the credentials s3rver accepts. */
  client(): S3Client;
  /** SIGKILL: every connection is refused until start(), as during an S3 outage. */
  stop(): Promise<void>;
  /** s3rver again on the same port and directory: the objects stored before are still there, as in S3. */
  start(): Promise<void>;
  /** Calls `listener` for every object stored from now on; returns the unsubscribe. */
  onPut(listener: (object: StoredObject) => void): () => void;
}

export interface LocalS3Options {
  readonly port: number;
  /** s3rver's directory (one folder per bucket). */
  readonly directory: string;
  readonly bucket: string;
}

/** s3rver's start: a few hundred ms here; tsx compiles the entry first. */
const START_TIMEOUT_MS = 15_000;
/** The credentials s3rver accepts (it checks the signature against its fixed key pair). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Starts s3rver in a child process (local/s3-server.ts) with the bucket created; the teardown stops it. */
export async function startLocalS3(options: LocalS3Options, teardown: Teardown): Promise<S3Handle> {
  const endpoint = `http://127.0.0.1:${options.port}`;
  const listeners = new Set<(object: StoredObject) => void>();
  const clients: S3Client[] = [];
  let current: Managed | undefined;
  teardown.trackPid(() => current?.child.pid);
  teardown.add(() => current?.stop(1000));
  teardown.add(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  const start = async () => {
    if (current !== undefined) return;
    current = await spawnS3rver(options, (object) => {
      for (const listener of listeners) listener(object);
    });
  };
  await start();
  return {
    endpoint,
    bucket: options.bucket,
    get running() {
      return current !== undefined;
    },
    client() {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      const child = current?.child;
      current = undefined;
      if (child !== undefined) await signalAndWait(child, 'SIGKILL');
    },
    start,
    onPut(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Spawns s3rver and resolves once it listens; its stdout lines are the stored objects. */
async function spawnS3rver(options: LocalS3Options, onPut: (object: StoredObject) => void): Promise<Managed> {
  const managed = startManaged(
    's3rver',
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'local', 's3-server.ts'),
      String(options.port),
      options.directory,
      options.bucket,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  managed.child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const lines = createInterface({ input: managed.child.stdout! });
  return new Promise<Managed>((resolve, reject) => {
    const timer = setTimeout(() => {
      void managed.stop(1000);
      reject(new Error(`s3rver did not listen on :${options.port} within 15 s: ${stderr.trim()}`));
    }, START_TIMEOUT_MS);
    managed.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (code ${code}): ${stderr.trim()}`));
    });
    lines.on('line', (line) => {
      let message: { listening?: number; put?: string; etag?: string };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.put !== undefined) onPut({ key: message.put, etag: message.etag });
      else if (message.listening !== undefined) {
        clearTimeout(timer);
        resolve(managed);
      }
    });
  });
}
