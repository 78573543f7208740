import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dvrFiles, isDvrPlaylistKey } from '../../core/contracts/names.js';
import {
  DVR_PLAYLIST_ENTRIES,
  type DvrEntry,
  DvrWindow,
  dvrSegmentTargetMs,
  MAX_DVR_ENTRIES,
  parseDvrPlaylist,
  renderDvrMultivariant,
} from '../../core/dvr/window.js';
import { cacheControlOf, contentTypeOf, IMMUTABLE_CACHE_CONTROL } from '../../core/storage/keys.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const B1 = 'mj3k2a1b9x7q';
const B2 = 'mj3k9z0c4p2r';

/** `count` DVR segments of `durationS` from `fromMs`, in broadcast `b` from index `first`. */
function segments(b: string, first: number, count: number, durationS: number, fromMs: number): DvrEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    uri: dvrFiles.chunk(b, first + i),
    mapUri: dvrFiles.init(b, 1),
    durationS,
    startMs: fromMs + i * durationS * 1000,
    discontinuity: false,
  }));
}

const tagValue = (text: string, tag: string) => new RegExp(`^#${tag}:(.*)$`, 'm').exec(text)?.[1];

describe('DVR segment target (D43)', () => {
  it('is 6 s at the default 4 h window, 2,400 entries; shorter windows keep 10 segments, longer ones 2,400', () => {
    expect(dvrSegmentTargetMs(4 * 3600)).toBe(6_000);
    expect((4 * 3600 * 1000) / dvrSegmentTargetMs(4 * 3600)).toBe(DVR_PLAYLIST_ENTRIES);
    expect(dvrSegmentTargetMs(60)).toBe(6_000);
    expect(dvrSegmentTargetMs(20)).toBe(2_000);
    expect(dvrSegmentTargetMs(24 * 3600)).toBe(36_000);
  });
});

describe('the DVR window (D43)', () => {
  it('drops entries wholly before the window start and counts them in EXT-X-MEDIA-SEQUENCE', () => {
    const window = new DvrWindow(60_000, 6_000);
    for (const e of segments(B1, 0, 20, 6, T0)) window.add(e);
    // The newest ends at T0 + 120 s: the window starts at T0 + 60 s, so the first 10 (ending <= 60 s) are gone.
    expect(window.length).toBe(10);
    const text = window.render();
    expect(tagValue(text, 'EXT-X-MEDIA-SEQUENCE')).toBe('10');
    expect(tagValue(text, 'EXT-X-DISCONTINUITY-SEQUENCE')).toBe('0');
    expect(text.split('\n').find((l) => l.endsWith('.m4s'))).toBe(`${B1}/dvr-10.m4s`);
    // The first listed segment carries its date and init: a player joining here needs both.
    expect(tagValue(text, 'EXT-X-PROGRAM-DATE-TIME')).toBe(new Date(T0 + 60_000).toISOString());
    expect(tagValue(text, 'EXT-X-MAP')).toBe(`URI="${B1}/dvr-init-1.mp4"`);
    // A sliding live playlist: no PLAYLIST-TYPE (EVENT forbids removals), no ENDLIST.
    expect(text).not.toMatch(/PLAYLIST-TYPE|ENDLIST/);
    // One more segment: the oldest listed one leaves at the start, the sequence moves on by one.
    window.add(segments(B1, 20, 1, 6, T0 + 120_000)[0]!);
    expect(window.length).toBe(10);
    expect(tagValue(window.render(), 'EXT-X-MEDIA-SEQUENCE')).toBe('11');
  });

  it('marks a reconnect with DISCONTINUITY and a new MAP, and counts it in DISCONTINUITY-SEQUENCE once it drops', () => {
    const window = new DvrWindow(30_000, 6_000);
    for (const e of segments(B1, 0, 4, 6, T0)) window.add(e);
    // The encoder reconnects 10 s later: a new broadcast folder, numbered from 0 again, after a gap.
    const after = segments(B2, 0, 3, 6, T0 + 34_000).map((e, i) => ({ ...e, discontinuity: i === 0 }));
    for (const e of after) window.add(e);
    let text = window.render();
    // Newest end T0 + 52 s: window from T0 + 22 s; B1's segments ending at 6, 12, 18 s dropped, 18-24 s stays.
    expect(tagValue(text, 'EXT-X-MEDIA-SEQUENCE')).toBe('3');
    expect(tagValue(text, 'EXT-X-DISCONTINUITY-SEQUENCE')).toBe('0');
    const lines = text.split('\n');
    const at = lines.indexOf('#EXT-X-DISCONTINUITY');
    expect(lines.slice(at, at + 4)).toEqual([
      '#EXT-X-DISCONTINUITY',
      `#EXT-X-MAP:URI="${B2}/dvr-init-1.mp4"`,
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 34_000).toISOString()}`,
      '#EXTINF:6.000,',
    ]);
    // Past the reconnect (newest end T0 + 76 s, window from 46 s): B1's 4 and B2's first 2 dropped, the
    // reconnect's tag with them, which the discontinuity sequence counts.
    for (const e of segments(B2, 3, 4, 6, T0 + 52_000)) window.add(e);
    text = window.render();
    expect(tagValue(text, 'EXT-X-DISCONTINUITY-SEQUENCE')).toBe('1');
    expect(tagValue(text, 'EXT-X-MEDIA-SEQUENCE')).toBe('6');
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
    expect(tagValue(text, 'EXT-X-MAP')).toBe(`URI="${B2}/dvr-init-1.mp4"`);
  });

  it('reads back what it rendered, so a task taking the stream over continues the sequences', () => {
    const window = new DvrWindow(30_000, 6_000);
    const all = [
      ...segments(B1, 0, 6, 6.006, T0),
      ...segments(B2, 0, 4, 5.972, T0 + 60_000).map((e, i) => ({ ...e, discontinuity: i === 0 })),
    ];
    for (const e of all) window.add(e);
    const parsed = parseDvrPlaylist(window.render())!;
    const state = window.state;
    expect(parsed.mediaSequence).toBe(state.mediaSequence);
    expect(parsed.discontinuitySequence).toBe(state.discontinuitySequence);
    expect(parsed.entries.map(({ startMs, ...rest }) => rest)).toEqual(
      state.entries.map(({ startMs, ...rest }) => rest),
    );
    parsed.entries.forEach((e, i) => {
      expect(e.startMs).toBeCloseTo(state.entries[i]!.startMs, 0);
    });
    // Continued from the parsed state, the next segment renders as the original window would.
    const next = segments(B2, 4, 1, 6, T0 + 84_000)[0]!;
    const continued = new DvrWindow(30_000, 6_000, parsed);
    continued.add(next);
    window.add(next);
    expect(continued.render()).toBe(window.render());
    expect(parseDvrPlaylist('not a playlist')).toBeUndefined();
  });

  it('stays bounded at 4 h: 2,400 entries, size and compressed size; 3,000 entries at most whatever comes', () => {
    const window = new DvrWindow(4 * 3600 * 1000, 6_000);
    for (const e of segments(B1, 0, 2_500, 6, T0)) window.add(e);
    expect(window.length).toBe(DVR_PLAYLIST_ENTRIES);
    const text = window.render();
    const bytes = Buffer.byteLength(text);
    const gzipped = gzipSync(text).byteLength;
    // About 38 bytes a line pair (EXTINF + URI): the whole 4 h playlist is under 100 KB, a few KB compressed.
    expect(bytes).toBeLessThan(100_000);
    expect(gzipped).toBeLessThan(15_000);
    // Every EXTINF rounded is within TARGETDURATION (RFC 8216bis 4.4.3.1).
    expect(tagValue(text, 'EXT-X-TARGETDURATION')).toBe('6');
    // Short segments (restarts) cannot grow it past the hard bound.
    const short = new DvrWindow(4 * 3600 * 1000, 6_000);
    for (const e of segments(B1, 0, 3_500, 1, T0)) short.add(e);
    expect(short.length).toBe(MAX_DVR_ENTRIES);
    expect(tagValue(short.render(), 'EXT-X-MEDIA-SEQUENCE')).toBe('500');
  });

  it('widens TARGETDURATION to a longer segment (a slow keyframe interval), never shrinks it', () => {
    const window = new DvrWindow(60_000, 6_000);
    window.add(segments(B1, 0, 1, 8.4, T0)[0]!);
    window.add(segments(B1, 1, 1, 6, T0 + 8_400)[0]!);
    expect(tagValue(window.render(), 'EXT-X-TARGETDURATION')).toBe('8');
  });
});

describe('the DVR multivariant and names (D43)', () => {
  it('lists each rendition DVR playlist, highest bandwidth first', () => {
    const text = renderDvrMultivariant([
      { rendition: '360p', bandwidth: 600_000, codecs: ['avc1.64001e', 'mp4a.40.2'] },
      { rendition: '720p', bandwidth: 2_800_000, codecs: ['avc1.64001f', 'mp4a.40.2'] },
    ]);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=2800000,CODECS="avc1.64001f,mp4a.40.2"',
        '720p/dvr.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=600000,CODECS="avc1.64001e,mp4a.40.2"',
        '360p/dvr.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('tells DVR playlists (rewritten in place) from every other name', () => {
    expect(isDvrPlaylistKey('cam/dvr.m3u8')).toBe(true);
    expect(isDvrPlaylistKey('/cam/360p/dvr.m3u8')).toBe(true);
    for (const key of ['cam/master.m3u8', 'cam/360p/playlist.m3u8', `cam/360p/${B1}/dvr-1.m4s`, 'dvr.m3u8']) {
      expect(isDvrPlaylistKey(key)).toBe(false);
    }
    // What S3 stores them with (and the local edge serves): a playlist type, a 2 s lifetime; the segments immutable.
    expect(cacheControlOf('segment', 'cam/360p/dvr.m3u8')).toBe('public, max-age=2');
    expect(contentTypeOf('segment', 'cam/360p/dvr.m3u8')).toBe('application/vnd.apple.mpegurl');
    expect(cacheControlOf('segment', `cam/360p/${B1}/dvr-1.m4s`)).toBe(IMMUTABLE_CACHE_CONTROL);
  });
});
