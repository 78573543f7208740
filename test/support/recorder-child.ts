// A recorder in a process of its own, for the crash test (test/ingest/recording-crash.test.ts): it records a source
// file as one broadcast of two renditions, then keeps running (never ending its sinks) until it is killed.
// `node --import tsx test/support/recorder-child.ts <redisUrl> <mediaDir> <streamId> <broadcast> <source> <heartbeatMs>`
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RecordingSinks } from '../../containers/ingest/src/recording/recorder.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';

const [redisUrl, mediaDir, streamId, broadcast, sourceFile, heartbeatMs] = process.argv.slice(2);
if (heartbeatMs === undefined)
  throw new Error('usage: recorder-child.ts redisUrl dir stream broadcast source ms');
const noSink = {
  open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
};
const sinks = new RecordingSinks(noSink, {
  storage: new LocalDiskStorage(mediaDir!),
  redis: new Redis(redisUrl!),
  logger: { warn: () => undefined, info: () => undefined },
  retentionDays: 30,
  // 8 Mbit/s: 6 s chunks, so a 7 s source stores one chunk per rendition and keeps 1 s in memory.
  bitrateBps: () => 8_000_000,
  heartbeatMs: Number(heartbeatMs),
});
const source = readFileSync(sourceFile!);
for (const rendition of ['720p', '360p'])
  sinks.open(streamId!, rendition, { broadcast: broadcast! }).write(source);
// The broadcast goes on: nothing ends the sinks, the process waits for its SIGKILL.
setInterval(() => undefined, 60_000);
