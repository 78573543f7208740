import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPackagerSinks } from '../../containers/ingest/src/sinks.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { IngestEnv, readEnv } from '../../core/contracts/env.js';
import { recordingId } from '../../core/contracts/names.js';
import { recordingIndexKeys } from '../../core/recordings/entry.js';
import { capturingLogger } from '../control/helpers.js';
import { encodeTestSource } from '../support/media.js';
import { startRedis } from '../support/redis.js';
import { onlyResource, synthStage } from './synth.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const DAYS = 45;
const DAY_MS = 86_400_000;
const { data, platform } = synthStage('dev', { media: { recordingRetentionDays: DAYS } });
const container = (
  onlyResource(platform, 'AWS::ECS::TaskDefinition').properties.ContainerDefinitions as Json[]
)[0];
/** The container's literal variables (the others are CloudFormation references, resolved at deploy). */
const environment: Record<string, string> = Object.fromEntries(
  container.Environment.filter((v: { Value: unknown }) => typeof v.Value === 'string').map(
    (v: { Name: string; Value: string }) => [v.Name, v.Value],
  ),
);

/**
 * media.recordingRetentionDays reaches both ends of a recording's life (D40, amended): the bucket's lifecycle
 * expires the objects after it, and the ingest task's recorder expires the index entries after the same figure.
 */
describe('recording retention: one stage setting for the lifecycle and the index', () => {
  let dir: string | undefined;
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('binds MIRROR_RECORDING_RETENTION_DAYS on the ingest container from the same setting as the lifecycle', () => {
    expect(environment.MIRROR_RECORDING_RETENTION_DAYS).toBe(String(DAYS));
    const rules = Object.values(data.findResources('AWS::S3::Bucket')).flatMap(
      (b: Json) => b.Properties.LifecycleConfiguration?.Rules ?? [],
    );
    expect(rules.find((r: Json) => r.Id === 'recordings')?.ExpirationInDays).toBe(DAYS);
  });

  it('the ingest, configured by that environment, writes index entries that expire after it', async () => {
    const [redisServer, source] = await Promise.all([startRedis(), encodeTestSource(2)]);
    dir = await mkdtemp(join(tmpdir(), 'mirror-rec-retention-'));
    try {
      const redis = redisServer.client();
      const env = readEnv(IngestEnv, { ...environment, MIRROR_REDIS_URL: redisServer.url });
      expect(env.MIRROR_RECORDING_RETENTION_DAYS).toBe(DAYS);
      const sinks = createPackagerSinks(env, new LocalDiskStorage(dir), redis, capturingLogger([]));
      const sink = sinks.open('cam-r', '360p', { broadcast: 'mh3k2x9a7q4f' });
      sink.write(source);
      await sink.end();
      const id = recordingId('cam-r', 'mh3k2x9a7q4f');
      const ttl = await redis.pttl(recordingIndexKeys.entry(id));
      // 45 days, not the 30 of the default (less the few ms the test took).
      expect(ttl).toBeGreaterThan((DAYS - 1) * DAY_MS);
      expect(ttl).toBeLessThanOrEqual(DAYS * DAY_MS);
      expect(await redis.pttl(recordingIndexKeys.byStream('cam-r'))).toBeGreaterThan((DAYS - 1) * DAY_MS);
    } finally {
      await redisServer.stop();
    }
  }, 30_000);
});
