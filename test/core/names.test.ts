import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  keyOf,
  type MediaPath,
  mediaKeys,
  parseMediaPath,
  parsePlaylistPath,
  playlistPaths,
  playlistUris,
  RENDITION_REGEX,
  RESERVED_STREAM_IDS,
  renditionFiles,
  STREAM_ID_REGEX,
  StreamId,
} from '../../core/contracts/names.js';
import { LADDERS } from '../../core/ladder.js';
import { streamIdOf } from '../../local/edge/routes.js';

const streamId = fc.stringMatching(STREAM_ID_REGEX);
const rendition = fc.stringMatching(RENDITION_REGEX);
/** The largest numbers the path grammar takes: 9-digit init versions, 15-digit sequence numbers, 6-digit parts. */
const version = fc.integer({ min: 0, max: 10 ** 9 - 1 });
const msn = fc.integer({ min: 0, max: 10 ** 15 - 1 });
const partIndex = fc.integer({ min: 0, max: 10 ** 6 - 1 });

const mediaPath: fc.Arbitrary<MediaPath> = fc.oneof(
  fc.record({ kind: fc.constant('init' as const), streamId, rendition, version }),
  fc.record({ kind: fc.constant('segment' as const), streamId, rendition, msn }),
  fc.record({ kind: fc.constant('part' as const), streamId, rendition, msn, part: partIndex }),
);

/** Resolves a URI written in a playlist against the playlist's own URL path, as a player does. */
const resolve = (uri: string, playlistPath: string) =>
  new URL(uri, `https://cdn.example${playlistPath}`).pathname;

describe('media object names (decision D2)', () => {
  it('golden: keys and playlist paths', () => {
    expect(mediaKeys.init('cam-1', '360p', 2)).toBe('cam-1/360p/init-2.mp4');
    expect(mediaKeys.segment('cam-1', '360p', 12)).toBe('cam-1/360p/seg-12.m4s');
    expect(mediaKeys.part('cam-1', '360p', 12, 3)).toBe('cam-1/360p/part-12-3.m4s');
    expect(playlistPaths.multivariant('cam-1')).toBe('/cam-1/master.m3u8');
    expect(playlistPaths.media('cam-1', '360p')).toBe('/cam-1/360p/playlist.m3u8');
  });

  it('media paths parse to their fields; anything else is not ours', () => {
    expect(parseMediaPath('/cam-1/360p/part-12-3.m4s')).toEqual({
      kind: 'part',
      streamId: 'cam-1',
      rendition: '360p',
      msn: 12,
      part: 3,
    });
    expect(parseMediaPath('/cam-1/360p/seg-12.m4s')).toMatchObject({ kind: 'segment', msn: 12 });
    expect(parseMediaPath('/cam-1/360p/init-2.mp4')).toMatchObject({ kind: 'init', version: 2 });
    expect(parseMediaPath('/cam-1/../x/seg-1.m4s')).toBeUndefined();
    expect(parseMediaPath('/cam-1/360p/playlist.m3u8')).toBeUndefined();
    expect(parseMediaPath('/Cam-1/360p/seg-1.m4s')).toBeUndefined();
  });

  it('property: every key the builder makes parses back to the same fields, with or without a leading slash', () => {
    fc.assert(
      fc.property(mediaPath, (path) => {
        const key = keyOf(path);
        expect(parseMediaPath(key)).toEqual(path);
        expect(parseMediaPath(`/${key}`)).toEqual(path);
        expect(parsePlaylistPath(`/${key}`)).toBeUndefined();
      }),
    );
  });

  it('property: every playlist path parses back to its stream and rendition, and is not a media path', () => {
    fc.assert(
      fc.property(streamId, rendition, (id, name) => {
        expect(parsePlaylistPath(playlistPaths.multivariant(id))).toEqual({
          kind: 'multivariant',
          streamId: id,
        });
        expect(parsePlaylistPath(playlistPaths.media(id, name))).toEqual({
          kind: 'media',
          streamId: id,
          rendition: name,
        });
        expect(parseMediaPath(playlistPaths.media(id, name))).toBeUndefined();
      }),
    );
  });

  it('property: URIs in playlists resolve to the paths of the objects they name', () => {
    fc.assert(
      fc.property(streamId, rendition, rendition, msn, partIndex, version, (id, name, sibling, n, p, v) => {
        const media = playlistPaths.media(id, name);
        expect(resolve(renditionFiles.part(n, p), media)).toBe(`/${mediaKeys.part(id, name, n, p)}`);
        expect(resolve(renditionFiles.segment(n), media)).toBe(`/${mediaKeys.segment(id, name, n)}`);
        expect(resolve(renditionFiles.init(v), media)).toBe(`/${mediaKeys.init(id, name, v)}`);
        expect(resolve(playlistUris.sibling(sibling), media)).toBe(playlistPaths.media(id, sibling));
        expect(resolve(playlistUris.variant(name), playlistPaths.multivariant(id))).toBe(media);
      }),
    );
  });
});

describe('stream-id and rendition grammars', () => {
  const anySegment = fc.oneof(streamId, fc.string({ maxLength: 70 })).filter((s) => !s.includes('/'));

  it('property: the local edge finds a stream id in a path exactly when the grammar accepts it', () => {
    fc.assert(
      fc.property(anySegment, (segment) => {
        const expected = STREAM_ID_REGEX.test(segment) ? segment : undefined;
        expect(streamIdOf(`/${segment}/playlist.m3u8`)).toBe(expected);
        expect(streamIdOf(`/${segment}/360p/part-1-2.m4s`)).toBe(expected);
      }),
    );
  });

  it('property: the StreamId schema is the grammar minus the reserved paths', () => {
    fc.assert(
      fc.property(anySegment, (segment) => {
        const reserved = (RESERVED_STREAM_IDS as readonly string[]).includes(segment);
        expect(StreamId.safeParse(segment).success).toBe(STREAM_ID_REGEX.test(segment) && !reserved);
      }),
    );
    for (const id of RESERVED_STREAM_IDS) expect(StreamId.safeParse(id).success).toBe(false);
  });

  it('every ladder rung name is a valid rendition name', () => {
    for (const rung of Object.values(LADDERS).flat()) expect(rung.name).toMatch(RENDITION_REGEX);
  });
});
