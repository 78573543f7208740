import { describe, expect, it } from 'vitest';
import type { Fragment, InitSegment } from '../../core/cmaf/index.js';
import { parseRecordingId, recordingId } from '../../core/contracts/names.js';
import { LADDERS } from '../../core/ladder.js';
import {
  averageObjectBytes,
  chunkTargetMs,
  MAX_CHUNK_MS,
  MIN_CHUNK_MS,
  RecordingChunker,
} from '../../core/recordings/chunking.js';
import { renderVodPlaylist } from '../../core/recordings/playlist.js';

const init = (n: number): InitSegment =>
  ({ kind: 'init', bytes: new Uint8Array([n]), info: { codecs: [] } }) as unknown as InitSegment;
const fragment = (bytes: number, independent: boolean): Fragment =>
  ({
    kind: 'fragment',
    bytes: new Uint8Array(bytes),
    timescale: 1000,
    duration: 500,
    independent,
  }) as Fragment;

describe('recording chunk sizes', () => {
  it('gives every ladder rung chunks of 6 s or more whose objects average 1 MB or more over an hour', () => {
    for (const rung of Object.values(LADDERS).flat()) {
      if (rung.videoKbps === 0) continue;
      const bps = (rung.videoKbps + rung.audioKbps) * 1000;
      expect(chunkTargetMs(bps)).toBeGreaterThanOrEqual(MIN_CHUNK_MS);
      expect(averageObjectBytes(bps, 3600)).toBeGreaterThanOrEqual(1_000_000);
    }
    // The tile rung (464 kbps) gets 18.3 s chunks; 8 Mbit/s needs only the 6 s floor.
    expect(chunkTargetMs(464_000)).toBe(18_319);
    expect(chunkTargetMs(8_000_000)).toBe(MIN_CHUNK_MS);
    expect(chunkTargetMs(0)).toBe(MAX_CHUNK_MS);
  });
});

describe('RecordingChunker', () => {
  it('closes chunks at the first keyframe past the target and marks restarts as discontinuities', () => {
    const c = new RecordingChunker(1000);
    const out = [
      ...c.push(init(1)),
      ...c.push(fragment(10, true)),
      ...c.push(fragment(10, false)),
      ...c.push(fragment(10, false)), // 1.0 s reached, but not a keyframe: stays in the chunk
      ...c.push(fragment(10, true)),
      ...c.restart(),
      ...c.push(fragment(10, true)), // before the new init: not decodable, dropped
      ...c.push(init(2)),
      ...c.push(fragment(10, true)),
      ...c.end(),
    ];
    const chunks = out.flatMap((o) => (o.kind === 'chunk' ? [o] : []));
    expect(
      chunks.map((ch) => [ch.index, ch.durationS, ch.bytes.byteLength, ch.initVersion, ch.discontinuity]),
    ).toEqual([
      [0, 1.5, 30, 1, false],
      [1, 0.5, 10, 1, false],
      [2, 0.5, 10, 2, true],
    ]);
    expect(out.filter((o) => o.kind === 'init').map((o) => o.kind === 'init' && o.version)).toEqual([1, 2]);
  });

  it('never holds more than its byte bound', () => {
    const c = new RecordingChunker(60_000, 25);
    const chunks = [1, 2, 3, 4].flatMap(() => c.push(fragment(10, false)));
    expect(c.push(init(1))).toHaveLength(1); // nothing to flush before the first init
    const after = [1, 2, 3].flatMap(() => c.push(fragment(10, false)));
    expect(chunks).toEqual([]);
    expect(after.map((o) => o.kind === 'chunk' && o.bytes.byteLength)).toEqual([20]);
  });
});

describe('recording names and playlist', () => {
  it('round-trips ids whose stream has dashes', () => {
    expect(parseRecordingId(recordingId('cam-1-', 'mabc1234wxyz'))).toEqual({
      streamId: 'cam-1-',
      broadcast: 'mabc1234wxyz',
    });
    expect(parseRecordingId('nodash')).toBeUndefined();
    expect(parseRecordingId('api-abcdefgh')).toBeUndefined();
  });

  it('renders a VOD playlist with maps, discontinuities and the end tag', () => {
    const text = renderVodPlaylist([
      { index: 0, durationS: 6.2, initVersion: 1, discontinuity: false, bytes: 1 },
      { index: 1, durationS: 2, initVersion: 2, discontinuity: true, bytes: 1 },
    ]);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('#EXT-X-TARGETDURATION:6');
    expect(text.trim().split('\n').slice(-6)).toEqual([
      'rec-0.m4s',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="rec-init-2.mp4"',
      '#EXTINF:2.000,',
      'rec-1.m4s',
      '#EXT-X-ENDLIST',
    ]);
  });
});
