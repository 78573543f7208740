import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { MSN_FLOOR_EPOCH_MS } from '../../core/hls/index.js';
import type { MediaClass, MediaStorage } from '../../core/storage/index.js';
import { encodeTestSource } from '../support/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';

/**
 * A packager clock that reads MSN_FLOOR_EPOCH_MS at its first call and runs with real time from there: a fresh
 * timeline then starts at msn 0 (its floor, decision D24), so expected numbers stay small, while backoffs, probes
 * and holds still see time pass.
 */
export function epochClock(): () => number {
  let offset: number | undefined;
  return () => {
    const now = Date.now();
    offset ??= now - MSN_FLOOR_EPOCH_MS;
    return now - offset;
  };
}

/** Records every key written, in order, and passes everything through to real storage. */
export class RecordingStorage implements MediaStorage {
  readonly puts: string[] = [];
  constructor(private readonly inner: MediaStorage) {}
  async put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void> {
    this.puts.push(key);
    await this.inner.put(key, bytes, mediaClass);
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
}

/** What the packager tests share: a redis-server, a media directory and an encoded test source. */
export interface PackagerFixture {
  redis: RedisServer;
  dir: string;
  source: Uint8Array;
}

/**
 * Registers hooks (at a test file's top level) that start a redis-server, make a temporary media directory and
 * encode `seconds` of test source before the file's tests, and tear them down after; the fields are set by then.
 */
export function usePackagerFixture(dirPrefix: string, seconds: number): PackagerFixture {
  const fixture = {} as PackagerFixture;
  beforeAll(async () => {
    [fixture.redis, fixture.dir, fixture.source] = await Promise.all([
      startRedis(),
      mkdtemp(join(tmpdir(), dirPrefix)),
      encodeTestSource(seconds),
    ]);
  }, 60_000);
  afterAll(async () => {
    await fixture.redis?.stop();
    if (fixture.dir !== undefined) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
