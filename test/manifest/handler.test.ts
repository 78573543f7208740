import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { functionUrlEvent, SyntheticRendition } from './helpers.js';

describe('manifest Lambda handler (API Gateway v2 / function URL event)', () => {
  let redis: RedisServer;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'mirror-handler-'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails at cold start naming a missing variable', async () => {
    vi.resetModules();
    vi.stubEnv('MIRROR_REDIS_URL', redis.url);
    vi.stubEnv('MIRROR_STORAGE', 'local');
    vi.stubEnv('MIRROR_MEDIA_DIR', '');
    delete process.env.MIRROR_MEDIA_DIR;
    await expect(import('../../functions/manifest/handler.js')).rejects.toThrow(/MIRROR_MEDIA_DIR/);
  });

  it('answers playlists and base64 media from module-scope clients', async () => {
    vi.resetModules();
    vi.stubEnv('MIRROR_REDIS_URL', redis.url);
    vi.stubEnv('MIRROR_STORAGE', 'local');
    vi.stubEnv('MIRROR_MEDIA_DIR', dir);
    const storage = new LocalDiskStorage(dir);
    const rendition = new SyntheticRendition(new LiveState(redis.client()), storage, 'lambda', '360p');
    await rendition.init();
    await rendition.parts(6);
    const { handler } = await import('../../functions/manifest/handler.js');
    const playlist = (await handler(
      functionUrlEvent('/lambda/360p/playlist.m3u8', { _HLS_msn: '1', _HLS_part: '0' }),
    )) as {
      statusCode: number;
      body: string;
    };
    expect(playlist.statusCode).toBe(200);
    expect(playlist.body).toContain(
      `#EXT-X-PART:DURATION=0.100,URI="${rendition.broadcast}/part-1-0.m4s",INDEPENDENT=YES`,
    );
    const part = (await handler(functionUrlEvent(`/lambda/360p/${rendition.broadcast}/part-0-1.m4s`))) as {
      statusCode: number;
      body: string;
      isBase64Encoded: boolean;
    };
    expect(part.statusCode).toBe(200);
    expect(part.isBase64Encoded).toBe(true);
    expect(Buffer.from(part.body, 'base64').toString()).toBe('part 0-1');
  });
});
