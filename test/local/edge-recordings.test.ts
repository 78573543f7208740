import { describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { behaviourFor } from '../../core/contracts/delivery.js';
import { recordingKeys, StreamId } from '../../core/contracts/names.js';
import type { HttpApp, HttpRequest } from '../../core/http.js';
import { Edge } from '../../local/edge/edge.js';
import { createMediaOrigin } from '../../local/edge/static-origin.js';
import { recordBroadcasts, useRecordingScratch } from '../support/recordings.js';

const B = 'mh3k2x9a7q4f';
const get = (path: string): HttpRequest => ({ method: 'GET', path, query: {}, headers: {} });
const text = (body: unknown) => Buffer.from(body as Uint8Array).toString('utf8');
/** The URIs a playlist names (EXT-X-MAP's and the media lines), relative to it. */
const urisOf = (playlist: string) =>
  playlist
    .split('\n')
    .flatMap(
      (line) => /^#EXT-X-MAP:URI="([^"]+)"/.exec(line)?.[1] ?? (line && !line.startsWith('#') ? line : []),
    );

describe('recordings through the local edge (D40: storage alone, as the CloudFront behaviours route them)', () => {
  const scratch = useRecordingScratch('mirror-rec-edge-');

  it('routes recording playlists, chunks and init segments to media storage, not the live manifest function', () => {
    for (const path of [
      `/cam-1/recording-${B}.m3u8`,
      `/cam-1/720p/${B}/recording.m3u8`,
      `/cam-1/720p/${B}/rec-0.m4s`,
      `/cam-1/720p/${B}/rec-init-0.mp4`,
    ]) {
      expect(behaviourFor(path), path).toMatchObject({ origin: 'media', cachePolicy: 'media' });
    }
    expect(behaviourFor('/cam-1/720p/playlist.m3u8').origin).toBe('manifest');
    expect(behaviourFor('/cam-1/master.m3u8').origin).toBe('manifest');
    // A stream whose live playlists the recordings' pattern would catch cannot be created.
    expect(StreamId.safeParse('recording-1').success).toBe(false);
  });

  it('serves a finished recording: multivariant, playlists and every chunk 200 through the edge', async () => {
    const { redis, dir, source } = scratch;
    const storage = new LocalDiskStorage(dir);
    await recordBroadcasts({ storage, redis, streamId: 'cam-1', renditions: ['720p', '360p'] }, [B], source);

    const manifestCalls: string[] = [];
    const manifest: HttpApp = {
      handle: async (request) => {
        manifestCalls.push(request.path);
        return { status: 404, headers: {}, body: '' };
      },
    };
    const edge = new Edge({ manifest, media: createMediaOrigin(dir) });
    const master = await edge.handle(get(`/${recordingKeys.multivariant('cam-1', B)}`));
    expect(master.status).toBe(200);
    const playlists = urisOf(text(master.body));
    expect(playlists).toHaveLength(2);
    let chunks = 0;
    for (const uri of playlists) {
      const path = `/cam-1/${uri}`;
      const playlist = await edge.handle(get(path));
      expect(playlist.status, path).toBe(200);
      expect(text(playlist.body)).toContain('#EXT-X-ENDLIST');
      const folder = path.slice(0, path.lastIndexOf('/') + 1);
      for (const name of urisOf(text(playlist.body))) {
        const chunk = await edge.handle(get(folder + name));
        expect(chunk.status, folder + name).toBe(200);
        expect(chunk.headers['cache-control']).toContain('immutable');
        chunks++;
      }
    }
    expect(chunks).toBeGreaterThanOrEqual(4); // an init and at least one chunk per rendition
    expect(manifestCalls).toEqual([]);
  }, 30_000);
});
