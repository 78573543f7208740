import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { METRIC_NAMESPACE, MetricNames } from '../../core/metric-names.js';
import type { EmfLine } from '../support/emf.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { functionUrlEvent, SyntheticRendition } from './helpers.js';

describe('manifest Lambda handler metrics (EMF on stdout)', () => {
  let redis: RedisServer;
  let dir: string;
  let rendition: SyntheticRendition;
  let handler: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;
  let stdout: MockInstance<typeof process.stdout.write>;
  let written: string[] = [];

  /** EMF lines written since the last call. */
  const emfLines = (): EmfLine[] => {
    const lines = written
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as EmfLine);
    written = [];
    return lines;
  };
  const status = (r: APIGatewayProxyResultV2) => (r as { statusCode: number }).statusCode;

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'mirror-manifest-metrics-'));
    vi.resetModules();
    vi.stubEnv('MIRROR_REDIS_URL', redis.url);
    vi.stubEnv('MIRROR_STORAGE', 'local');
    vi.stubEnv('MIRROR_MEDIA_DIR', dir);
    vi.stubEnv('MIRROR_STAGE', 'metrics-test');
    vi.stubEnv('POWERTOOLS_DEV', '');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    rendition = new SyntheticRendition(
      new LiveState(redis.client()),
      new LocalDiskStorage(dir),
      'emf',
      '360p',
    );
    await rendition.init();
    await rendition.parts(6); // last published: msn 1 part 0
    ({ handler } = await import('../../functions/manifest/handler.js'));
    const original = process.stdout.write.bind(process.stdout);
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk, ...rest) => {
      const text = String(chunk);
      if (text.includes('"_aws"')) {
        written.push(text);
        return true;
      }
      return original(chunk, ...(rest as []));
    });
  });
  afterAll(async () => {
    stdout.mockRestore();
    vi.unstubAllEnvs();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('emits PlaylistLatencyMs and BlockingWaitMs for a blocking reload, in namespace Mirror by service and Stage', async () => {
    const PUBLISH_AFTER_MS = 150;
    const answer = handler(functionUrlEvent('/emf/360p/playlist.m3u8', { _HLS_msn: '1', _HLS_part: '1' }));
    await new Promise((r) => setTimeout(r, PUBLISH_AFTER_MS));
    await rendition.part(); // msn 1 part 1: wakes the request
    expect(status(await answer)).toBe(200);
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const directive = line._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive.Dimensions).toEqual([expect.arrayContaining(['service', 'Stage'])]);
    expect(directive.Dimensions[0]).toHaveLength(2);
    expect(line).toMatchObject({ service: 'manifest', Stage: 'metrics-test' });
    const m = MetricNames.manifest;
    expect(directive.Metrics.map((x) => x.Name).sort()).toEqual(
      [m.blockingWaitMs, m.playlistLatencyMs].sort(),
    );
    expect(directive.Metrics.every((x) => x.Unit === 'Milliseconds')).toBe(true);
    const waited = line[m.blockingWaitMs] as number;
    const latency = line[m.playlistLatencyMs] as number;
    // The latency clock starts as the handler is called; the wait starts after the first live-state read.
    expect(latency).toBeGreaterThanOrEqual(PUBLISH_AFTER_MS - 1);
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(latency);
    expect(latency).toBeLessThan(5000);
  });

  it('counts a held part request that waited out its hold as a blocking timeout', async () => {
    // msn 1 part 2 is the preload-hinted part: held up to three part targets (300 ms), then 404.
    const answer = await handler(functionUrlEvent(`/emf/360p/${rendition.broadcast}/part-1-2.m4s`));
    expect(status(answer)).toBe(404);
    const [line, ...more] = emfLines();
    expect(more).toEqual([]);
    const m = MetricNames.manifest;
    expect(line![m.blockingTimeouts]).toBe(1);
    expect(line![m.blockingWaitMs] as number).toBeGreaterThanOrEqual(250);
    expect(line![m.playlistLatencyMs]).toBeUndefined();
  });

  it('writes nothing for a media request answered from storage, and a plain playlist only its latency', async () => {
    expect(status(await handler(functionUrlEvent(`/emf/360p/${rendition.broadcast}/part-0-1.m4s`)))).toBe(
      200,
    );
    expect(emfLines()).toEqual([]);
    expect(status(await handler(functionUrlEvent('/emf/master.m3u8')))).toBe(200);
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]!._aws.CloudWatchMetrics[0]!.Metrics.map((x) => x.Name)).toEqual([
      MetricNames.manifest.playlistLatencyMs,
    ]);
  });
});
