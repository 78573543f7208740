import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../core/adapters/redis.js';
import { connectRedis } from '../../core/adapters/runtime.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpRequest } from '../../core/http.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { createManifestApp, manifestDepsFromRedis } from '../../functions/manifest/app.js';
import { type ControlledRedis, controlledRedis, outageAnswers } from '../support/redis-control.js';

// The manifest function on the client its handler builds (connectRedis, one duplicate for the subscription),
// against a redis-server that is hung and then killed mid-test: 503 + Retry-After, never a 500 or a hang.
describe('manifest while Redis is unreachable', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let app: ReturnType<typeof createManifestApp>;
  const get = (path: string, query: Record<string, string> = {}): HttpRequest => ({
    method: 'GET',
    path,
    query,
    headers: {},
  });

  beforeAll(async () => {
    server = await controlledRedis();
    redis = await connectRedis(server.url);
    redis.on('error', () => undefined);
    const storage = new LocalDiskStorage(mkdtempSync(join(tmpdir(), 'mirror-manifest-outage-')));
    app = createManifestApp(manifestDepsFromRedis(redis, storage));
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('answers playlists with 503 + Retry-After while Redis hangs or is down, and 404 (not live) once it is back', async () => {
    const playlist = () => app.handle(get('/cam-1/master.m3u8'));
    expect((await playlist()).status).toBe(404);
    const { hung, down, after } = await outageAnswers(server, playlist, 404);
    expect(hung).toMatchObject({ status: 503, retryAfter: '1' });
    expect(hung.ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS * 2 + 500);
    expect(down.status).toBe(503);
    expect(down.headers).toMatchObject({ 'retry-after': '1', 'cache-control': 'no-store' });
    expect(after).toBe(404);
  });
});
