import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BROADCAST_REGEX,
  BroadcastId,
  isThumbnailKey,
  keyOf,
  type MediaPath,
  mediaKeys,
  newBroadcastId,
  parseMediaPath,
  parsePlaylistPath,
  playlistPaths,
  playlistUris,
  RENDITION_REGEX,
  RESERVED_STREAM_IDS,
  renditionFiles,
  STREAM_ID_REGEX,
  StreamId,
  thumbnailKey,
} from '../../core/contracts/names.js';
import { LADDERS } from '../../core/ladder.js';
import { streamIdOf } from '../../local/edge/routes.js';

const streamId = fc.stringMatching(STREAM_ID_REGEX);
const rendition = fc.stringMatching(RENDITION_REGEX);
const broadcast = fc.stringMatching(BROADCAST_REGEX);
/** The largest numbers the path grammar takes: 9-digit init versions, 15-digit sequence numbers, 6-digit parts. */
const version = fc.integer({ min: 0, max: 10 ** 9 - 1 });
const msn = fc.integer({ min: 0, max: 10 ** 15 - 1 });
const partIndex = fc.integer({ min: 0, max: 10 ** 6 - 1 });

const mediaPath: fc.Arbitrary<MediaPath> = fc.oneof(
  fc.record({ kind: fc.constant('init' as const), streamId, rendition, broadcast, version }),
  fc.record({ kind: fc.constant('segment' as const), streamId, rendition, broadcast, msn }),
  fc.record({ kind: fc.constant('part' as const), streamId, rendition, broadcast, msn, part: partIndex }),
);

/** Resolves a URI written in a playlist against the playlist's own URL path, as a player does. */
const resolve = (uri: string, playlistPath: string) =>
  new URL(uri, `https://cdn.example${playlistPath}`).pathname;

const B = 'mh3k2x9a7q4f';

describe('media object names (decisions D2, D16)', () => {
  it('golden: keys and playlist paths', () => {
    expect(mediaKeys.init('cam-1', '360p', B, 2)).toBe('cam-1/360p/mh3k2x9a7q4f/init-2.mp4');
    expect(mediaKeys.segment('cam-1', '360p', B, 12)).toBe('cam-1/360p/mh3k2x9a7q4f/seg-12.m4s');
    expect(mediaKeys.part('cam-1', '360p', B, 12, 3)).toBe('cam-1/360p/mh3k2x9a7q4f/part-12-3.m4s');
    expect(renditionFiles.part(B, 3, 1)).toBe('mh3k2x9a7q4f/part-3-1.m4s');
    expect(playlistPaths.multivariant('cam-1')).toBe('/cam-1/master.m3u8');
    expect(playlistPaths.media('cam-1', '360p')).toBe('/cam-1/360p/playlist.m3u8');
  });

  it('media paths parse to their fields; anything else is not ours', () => {
    expect(parseMediaPath(`/cam-1/360p/${B}/part-12-3.m4s`)).toEqual({
      kind: 'part',
      streamId: 'cam-1',
      rendition: '360p',
      broadcast: B,
      msn: 12,
      part: 3,
    });
    expect(parseMediaPath(`/cam-1/360p/${B}/seg-12.m4s`)).toMatchObject({ kind: 'segment', msn: 12 });
    expect(parseMediaPath(`/cam-1/360p/${B}/init-2.mp4`)).toMatchObject({ kind: 'init', version: 2 });
    expect(parseMediaPath(`/cam-1/../${B}/seg-1.m4s`)).toBeUndefined();
    expect(parseMediaPath('/cam-1/360p/playlist.m3u8')).toBeUndefined();
    expect(parseMediaPath(`/Cam-1/360p/${B}/seg-1.m4s`)).toBeUndefined();
    // The names of before the broadcast folder (D16) are not ours any more: nothing can serve them stale.
    expect(parseMediaPath('/cam-1/360p/part-12-3.m4s')).toBeUndefined();
    expect(parseMediaPath('/cam-1/360p/init-1.mp4')).toBeUndefined();
    // Broadcast ids: lowercase base36, 8 to 24 characters.
    expect(parseMediaPath('/cam-1/360p/MH3K2X9A/seg-1.m4s')).toBeUndefined();
    expect(parseMediaPath('/cam-1/360p/mh3k2x9/seg-1.m4s')).toBeUndefined();
    expect(parseMediaPath(`/cam-1/360p/${'a'.repeat(25)}/seg-1.m4s`)).toBeUndefined();
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
      fc.property(
        fc.record({ id: streamId, name: rendition, sibling: rendition, b: broadcast }),
        msn,
        partIndex,
        version,
        ({ id, name, sibling, b }, n, p, v) => {
          const media = playlistPaths.media(id, name);
          expect(resolve(renditionFiles.part(b, n, p), media)).toBe(`/${mediaKeys.part(id, name, b, n, p)}`);
          expect(resolve(renditionFiles.segment(b, n), media)).toBe(`/${mediaKeys.segment(id, name, b, n)}`);
          expect(resolve(renditionFiles.init(b, v), media)).toBe(`/${mediaKeys.init(id, name, b, v)}`);
          expect(renditionFiles.part(b, n, p)).not.toContain('..');
          expect(resolve(playlistUris.sibling(sibling), media)).toBe(playlistPaths.media(id, sibling));
          expect(resolve(playlistUris.variant(name), playlistPaths.multivariant(id))).toBe(media);
        },
      ),
    );
  });
});

describe('broadcast ids (decision D16)', () => {
  it('golden: 8 base36 characters of wall-clock ms, then 4 random ones', () => {
    const at = Date.UTC(2026, 10, 25, 12, 0, 0);
    expect(newBroadcastId(at, new Uint8Array([0, 10, 35, 36]))).toBe(`${at.toString(36)}0az0`);
    expect(newBroadcastId(0, new Uint8Array([1, 2, 3, 4]))).toBe('000000001234');
  });

  it('property: every id matches the grammar and sorts by its start time', () => {
    const now = fc.integer({ min: 0, max: 36 ** 8 - 1 });
    const bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(now, now, bytes, bytes, (a, b, ra, rb) => {
        const [x, y] = [newBroadcastId(a, ra), newBroadcastId(b, rb)];
        expect(BroadcastId.safeParse(x).success).toBe(true);
        if (a < b) expect(x < y).toBe(true);
      }),
    );
  });

  it('ids drawn in the same millisecond differ (random part, no stored counter)', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => newBroadcastId(at)));
    expect(ids.size).toBeGreaterThan(990);
  });
});

describe('stream-id and rendition grammars', () => {
  const anySegment = fc.oneof(streamId, fc.string({ maxLength: 70 })).filter((s) => !s.includes('/'));

  it('property: the local edge finds a stream id in a path exactly when the grammar accepts it', () => {
    fc.assert(
      fc.property(anySegment, (segment) => {
        const expected = STREAM_ID_REGEX.test(segment) ? segment : undefined;
        expect(streamIdOf(`/${segment}/playlist.m3u8`)).toBe(expected);
        expect(streamIdOf(`/${segment}/360p/${B}/part-1-2.m4s`)).toBe(expected);
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

  it('tells a thumbnail (written in place, D41) from every name written once', () => {
    expect(isThumbnailKey(thumbnailKey('cam-1', 320))).toBe(true);
    expect(isThumbnailKey('cam-1/360p/0123abcd9xyz/part-3-1.m4s')).toBe(false);
    expect(isThumbnailKey('cam-1/360p/thumbnail-320.jpg')).toBe(false);
    expect(isThumbnailKey('cam-1/thumbnail-320.jpg.m4s')).toBe(false);
  });
});
