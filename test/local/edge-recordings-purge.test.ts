import { afterAll, describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { recordingId, recordingKeys } from '../../core/contracts/names.js';
import type { HttpRequest } from '../../core/http.js';
import { createApps } from '../../local/apps.js';
import { EdgeCache } from '../../local/edge/cache.js';
import { Edge } from '../../local/edge/edge.js';
import { createMediaOrigin } from '../../local/edge/static-origin.js';
import { Teardown } from '../../local/teardown.js';
import { TOKEN } from '../control/helpers.js';
import { recordBroadcasts, useRecordingScratch } from '../support/recordings.js';

const B = 'mh3k2x9a7q4f';
const get = (path: string): HttpRequest => ({ method: 'GET', path, query: {}, headers: {} });

/**
 * Deleting a recording drops the local edge's cached copies (D40, amended), as the CloudFront invalidation does on
 * AWS: the edge and the control API share one cache in `npm start` (local/apps.ts, local/platform.ts). Recording
 * objects are cached as immutable, so without the purge the edge would serve them for a year after the delete.
 */
describe('recording delete purges the local edge (apps as npm start wires them, real redis-server)', () => {
  const scratch = useRecordingScratch('mirror-rec-purge-');
  const teardown = new Teardown((error) => {
    throw error;
  });
  afterAll(async () => {
    await teardown.run();
  });

  it('answers 404 for a previously cached recording playlist, chunk and init after the delete', async () => {
    const { redis, dir, source } = scratch;
    const storage = new LocalDiskStorage(dir);
    await recordBroadcasts({ storage, redis, streamId: 'cam-1', renditions: ['360p'] }, [B], source);
    const cache = new EdgeCache();
    const apps = createApps(
      {
        redis,
        storage,
        controlToken: TOKEN,
        srt: { host: '127.0.0.1', port: 9000 },
        sessionSecret: 'purge-test-secret-0123456789abcdef',
        edgeCache: cache,
      },
      teardown,
    );
    const edge = new Edge(
      { manifest: apps.manifest, media: createMediaOrigin(dir), control: apps.control },
      { cache },
    );
    const paths = [
      `/${recordingKeys.multivariant('cam-1', B)}`,
      `/${recordingKeys.playlist('cam-1', '360p', B)}`,
      `/${recordingKeys.chunk('cam-1', '360p', B, 0)}`,
      `/${recordingKeys.init('cam-1', '360p', B, 1)}`,
    ];
    for (const path of paths) {
      expect((await edge.handle(get(path))).status, path).toBe(200);
      // Cached: the second answer comes from the edge, not storage.
      expect((await edge.handle(get(path))).cache, path).toBe('hit');
    }

    const deleted = await edge.handle({
      method: 'DELETE',
      path: `/api/control/recordings/${recordingId('cam-1', B)}`,
      query: {},
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(200);
    expect(JSON.parse(Buffer.from(deleted.body as Uint8Array).toString()).invalidationId).toMatch(/^local-/);
    for (const path of paths) {
      const after = await edge.handle(get(path));
      expect([path, after.status, after.cache]).toEqual([path, 404, 'miss']);
    }
  }, 30_000);
});
