import { describe, expect, it } from 'vitest';
import {
  advances,
  edgeMoved,
  type FaultRow,
  findFreezes,
  longestFreezeMs,
  meetsBar,
  PutLedger,
  progressingSince,
  readMediaPlaylist,
  recoveredAtMs,
  renderTable,
  timeMoved,
  UriLedger,
  variantPlaylists,
} from '../../bench/faults-model.js';

const URL_ = 'http://edge/cam/360p/playlist.m3u8';
const at = (file: string) => `http://edge/cam/360p/${file}`;

const PLAYLIST = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:1
#EXT-X-PART-INF:PART-TARGET=0.1
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-MAP:URI="b1/init-1.mp4"
#EXTINF:0.5,
b1/seg-40.m4s
#EXT-X-PART:DURATION=0.1,URI="b1/part-41-0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.1,URI="b1/part-41-1.m4s"
#EXTINF:0.2,
b1/seg-41.m4s
#EXT-X-DISCONTINUITY
#EXT-X-GAP
#EXTINF:0.5,
b1/seg-42.m4s
#EXT-X-PART:DURATION=0.1,URI="b1/part-43-0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.1,URI="b1/part-43-1.m4s",GAP=YES
#EXT-X-PART:DURATION=0.1,URI="b1/part-43-2.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="b1/part-43-3.m4s"
#EXT-X-RENDITION-REPORT:URI="../720p/playlist.m3u8",LAST-MSN=43,LAST-PART=2
`;

describe('what a media playlist advertises', () => {
  it('lists the map, segments and parts, resolved against the playlist, but not hints, gaps or reports', () => {
    const read = readMediaPlaylist(PLAYLIST, URL_);
    expect(read.advertised).toEqual(
      [
        'b1/init-1.mp4',
        'b1/seg-40.m4s',
        'b1/part-41-0.m4s',
        'b1/part-41-1.m4s',
        'b1/seg-41.m4s',
        'b1/part-43-0.m4s',
        'b1/part-43-2.m4s',
      ].map(at),
    );
  });

  it('finds the live edge (the newest part) and the next blocking reload (the part after it)', () => {
    const read = readMediaPlaylist(PLAYLIST, URL_);
    expect(read.edge).toBe(at('b1/part-43-2.m4s'));
    expect(read.next).toEqual({ msn: 43, part: 3 });
    expect(read.ended).toBe(false);
  });

  it('counts skipped segments of a delta update into the sequence numbers', () => {
    const delta = `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=5\n#EXTINF:0.5,\nseg-15.m4s\n#EXT-X-PART:DURATION=0.1,URI="part-16-0.m4s"\n`;
    expect(readMediaPlaylist(delta, URL_).next).toEqual({ msn: 16, part: 1 });
  });

  it('reads an ended playlist of whole segments: the edge is the last segment', () => {
    const ended = `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-MAP:URI="init-2.mp4"\n#EXTINF:0.5,\nseg-3.m4s\n#EXTINF:0.5,\nseg-4.m4s\n#EXT-X-ENDLIST\n`;
    const read = readMediaPlaylist(ended, URL_);
    expect(read).toMatchObject({ edge: at('seg-4.m4s'), next: { msn: 5, part: 0 }, ended: true });
  });

  it('lists the media playlists of a multivariant playlist', () => {
    const master = `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/playlist.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="audio/playlist.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=2\n720p/playlist.m3u8\n`;
    expect(variantPlaylists(master, 'http://edge/cam/master.m3u8')).toEqual([
      'http://edge/cam/360p/playlist.m3u8',
      'http://edge/cam/audio/playlist.m3u8',
      'http://edge/cam/720p/playlist.m3u8',
    ]);
  });
});

describe('gaps, freezes and recovery from samples', () => {
  // A player sampled every 100 ms: plays until 1.0 s, frozen until 3.5 s, then plays again.
  const samples = Array.from({ length: 50 }, (_, i) => {
    const atMs = i * 100;
    const value = atMs <= 1000 ? atMs / 1000 : atMs < 3500 ? 1 : 1 + (atMs - 3400) / 1000;
    return { atMs, value };
  });

  it('takes the longest span without currentTime advancing as the player gap', () => {
    const moves = advances(samples, timeMoved);
    expect(longestFreezeMs(findFreezes(moves, 0, 4900, 0))).toBe(2500);
  });

  it('counts a reload (currentTime back to 0) as no progress, and the growth after it as progress', () => {
    const reload = [
      { atMs: 0, value: 50 },
      { atMs: 100, value: 50.1 },
      { atMs: 200, value: 0 },
      { atMs: 900, value: 0 },
      { atMs: 1000, value: 49.9 },
      { atMs: 1100, value: 50 },
    ];
    expect(advances(reload, timeMoved)).toEqual([0, 100, 1000, 1100]);
  });

  it('treats any change of the playlist edge as progress, a numbering restart included', () => {
    const edges = ['a/part-9-4', 'a/part-9-4', 'b/part-0-0', undefined, 'b/part-0-1'].map((value, i) => ({
      atMs: i * 100,
      value,
    }));
    expect(advances(edges, edgeMoved)).toEqual([0, 200, 400]);
  });

  it('finds the run of progress at the row end, and dates recovery at its start, never before the fault ended', () => {
    const moves = advances(samples, timeMoved);
    expect(findFreezes(moves, 0, 4900, 1000)).toEqual([{ fromMs: 1000, toMs: 3500 }]);
    expect(progressingSince(moves, 4900, 1000)).toBe(3500);
    expect(recoveredAtMs(3500, { endMs: 2000 }, 4900, 1000)).toBe(3500);
    // Progressing since before the fault ended (it never stopped, or resumed during it): recovered at its end.
    expect(recoveredAtMs(0, { endMs: 2000 }, 4900, 1000)).toBe(2000);
    // Frozen at the row end (the last advance 1.1 s old), or moving for too short a time: not recovered.
    expect(progressingSince(moves, 6000, 1000)).toBeUndefined();
    expect(recoveredAtMs(undefined, { endMs: 2000 }, 6000, 1000)).toBeUndefined();
    expect(recoveredAtMs(4500, { endMs: 2000 }, 4900, 1000)).toBeUndefined();
  });

  it('does not take one late part after a long freeze for progress', () => {
    // A flushed part at 5.1 s after 5 s of nothing, then nothing again: frozen from 5.1 s on.
    expect(progressingSince([0, 100, 200, 5100], 6300, 1000)).toBeUndefined();
    expect(progressingSince([0, 100, 200, 5100], 5900, 1000)).toBe(5100);
  });
});

describe('ledgers', () => {
  it('keep each URI once, with the row it was first seen in, and refuse beyond their bound', () => {
    const ledger = new UriLedger(3);
    ledger.add('/a', 1);
    ledger.add('/b', 1);
    ledger.add('/a', 2);
    ledger.add('/c', 2);
    expect(ledger.add('/d', 2)).toBe(false);
    expect(ledger.firstSeenIn(1)).toEqual(['/a', '/b']);
    expect(ledger.firstSeenIn(2)).toEqual(['/c']);
    expect(ledger.firstSeenIn()).toEqual(['/a', '/b', '/c']);
    expect(ledger.overflow).toBe(1);
  });

  it('count a key PUT twice as reused in the row of its second PUT, and tell changed bytes from a retry', () => {
    const puts = new PutLedger();
    puts.record('cam/360p/init-1.mp4', 'e1', 0);
    puts.record('cam/360p/part-0-0.m4s', 'p1', 0);
    puts.record('cam/360p/part-0-1.m4s', 'p2', 1);
    puts.record('cam/360p/part-0-1.m4s', 'p2', 1);
    puts.record('cam/360p/init-1.mp4', 'e2', 2);
    puts.record('cam/360p/init-1.mp4', 'e3', 3);
    expect(puts.reusedIn(1)).toEqual({ keys: 1, changed: 0, examples: ['cam/360p/part-0-1.m4s'] });
    expect(puts.reusedIn(2)).toEqual({ keys: 1, changed: 1, examples: ['cam/360p/init-1.mp4'] });
    expect(puts.reusedIn(3).keys).toBe(0);
    expect(puts.reusedIn().keys).toBe(2);
  });
});

describe('the table', () => {
  const rows: FaultRow[] = [
    {
      fault: 'redis-server killed',
      playerGapS: 1.25,
      stalls: 1,
      fatalErrors: 0,
      missing: 0,
      reusedKeys: 0,
      recoveryS: 2.04,
    },
    {
      fault: 'ingest SIGKILL',
      playerGapS: 9,
      stalls: 2,
      fatalErrors: 1,
      missing: 3,
      reusedKeys: 12,
      recoveryS: null,
    },
    { fault: '5% loss', skipped: 'needs root' },
    { fault: 'TTL', failed: 'Error: the stream never went away' },
  ];

  it('renders one Markdown row per fault, a skipped fault with its reason', () => {
    expect(renderTable(rows).split('\n')).toEqual([
      '| fault | player gap (s) | stalls | fatal errors | advertised but missing | key names reused | recovery (s) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| redis-server killed | 1.3 | 1 | 0 | 0 | 0 | 2.0 |',
      '| ingest SIGKILL | 9.0 | 2 | 1 | 3 | 12 | not recovered |',
      '| 5% loss | skipped: needs root | | | | | |',
      '| TTL | failed: Error: the stream never went away | | | | | |',
    ]);
  });

  it("holds each row to the issue's bar", () => {
    expect(rows.map((row) => meetsBar(row, 3))).toEqual([true, false, true, false]);
    expect(meetsBar({ ...rows[0]!, recoveryS: 3.5 }, 3)).toBe(false);
  });
});
