import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RecordingSinks } from '../../containers/ingest/src/recording/recorder.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { encodeTestSource } from './media.js';
import { useRedisServer } from './redis-hooks.js';

const quiet = { warn: () => undefined, info: () => undefined };
const noSink = {
  open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
};

/**
 * Records `source` (an fMP4 rendition) as each broadcast of `streamId`, every rendition opened together as the
 * transcode pipeline opens its rungs (one recording per broadcast, D40), a minute apart from `startMs`.
 */
export async function recordBroadcasts(
  options: { storage: MediaStorage; redis: Redis; streamId: string; renditions: readonly string[] },
  broadcasts: readonly string[],
  source: Uint8Array,
  startMs = Date.parse('2026-12-01T08:00:00Z'),
): Promise<void> {
  let now = startMs;
  const sinks = new RecordingSinks(noSink, {
    storage: options.storage,
    redis: options.redis,
    logger: quiet,
    retentionDays: 30,
    clock: () => now,
  });
  for (const broadcast of broadcasts) {
    const open = options.renditions.map((rendition) =>
      sinks.open(options.streamId, rendition, { broadcast }),
    );
    for (const sink of open) sink.write(source);
    await Promise.all(open.map((sink) => sink.end()));
    now += 60_000;
  }
}

/** What the recording tests share: a redis-server, a scratch media folder and a 3 s encoded rendition. */
export interface RecordingScratch {
  readonly redis: Redis;
  readonly dir: string;
  readonly source: Uint8Array;
}

/** Starts them for the enclosing describe (the folder is removed after it); read the fields inside a test. */
export function useRecordingScratch(prefix: string): RecordingScratch {
  let redis: Redis | undefined;
  let dir: string | undefined;
  let source: Uint8Array | undefined;
  useRedisServer((_server, client) => {
    redis = client;
  });
  beforeAll(async () => {
    [dir, source] = await Promise.all([mkdtemp(join(tmpdir(), prefix)), encodeTestSource(3)]);
  }, 30_000);
  afterAll(() => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })));
  return {
    get redis() {
      return redis!;
    },
    get dir() {
      return dir!;
    },
    get source() {
      return source!;
    },
  };
}
