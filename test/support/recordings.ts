import type { Redis } from 'ioredis';
import { RecordingSinks } from '../../containers/ingest/src/recording/recorder.js';
import type { MediaStorage } from '../../core/storage/index.js';

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
