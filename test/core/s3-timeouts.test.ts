import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultPutTimeoutMs,
  PUT_TIMEOUT_BASE_MS,
  PUT_TIMEOUT_MS_PER_MIB,
  S3Storage,
} from '../../core/adapters/storage/s3.js';
import { type S3Server, startS3 } from '../support/s3.js';
import { type S3FaultProxy, startS3FaultProxy } from '../support/s3-faults.js';

let s3: S3Server;
let proxy: S3FaultProxy;

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startS3FaultProxy(s3);
});
afterAll(async () => {
  await proxy.stop();
  await s3.stop();
});

const bytes = new Uint8Array(1024).fill(7);

describe('S3 storage deadlines (decision D21)', () => {
  it('a put the server holds fails after its deadline, not after the socket gives up minutes later', async () => {
    const storage = new S3Storage(proxy.client(), proxy.bucket, { putTimeoutMs: () => 300 });
    const release = proxy.fail({ mode: 'hold', method: 'PUT', key: /held-/ });
    try {
      const started = Date.now();
      const error = await storage.put('s/r/b/held-1.m4s', bytes, 'part').then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(Error);
      // The SDK's own retries run inside the same deadline.
      expect(elapsed).toBeGreaterThanOrEqual(280);
      expect(elapsed).toBeLessThan(1500);
    } finally {
      release();
    }
    // The next put of the same storage is not held up by the abandoned one.
    await storage.put('s/r/b/after-1.m4s', bytes, 'part');
    expect(await storage.get('s/r/b/after-1.m4s')).toEqual(bytes);
  });

  it('a get the server holds fails after its deadline too', async () => {
    const storage = new S3Storage(proxy.client(), proxy.bucket, { getTimeoutMs: 300 });
    await storage.put('s/r/b/read-1.m4s', bytes, 'part');
    const release = proxy.fail({ mode: 'hold', method: 'GET', key: /read-1/ });
    try {
      const started = Date.now();
      await expect(storage.get('s/r/b/read-1.m4s')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      release();
    }
  });

  it('the default deadline is 2 s plus 1 s per MiB', () => {
    expect(defaultPutTimeoutMs(0)).toBe(PUT_TIMEOUT_BASE_MS);
    expect(defaultPutTimeoutMs(1024 * 1024)).toBe(PUT_TIMEOUT_BASE_MS + PUT_TIMEOUT_MS_PER_MIB);
    expect(defaultPutTimeoutMs(5 * 1024 * 1024)).toBe(7000);
  });

  it('500s and resets reach the caller as failures (after the SDK retries), and nothing is stored', async () => {
    const storage = new S3Storage(proxy.client(), proxy.bucket);
    for (const mode of ['error', 'drop'] as const) {
      const release = proxy.fail({ mode, method: 'PUT', key: new RegExp(`${mode}-1`) });
      try {
        await expect(storage.put(`s/r/b/${mode}-1.m4s`, bytes, 'part')).rejects.toThrow();
      } finally {
        release();
      }
      expect(await new S3Storage(s3.client(), s3.bucket).get(`s/r/b/${mode}-1.m4s`)).toBeUndefined();
      const attempts = proxy.seen.filter((r) => r.key === `s/r/b/${mode}-1.m4s`);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.every((r) => r.fault === mode)).toBe(true);
    }
  });
});
