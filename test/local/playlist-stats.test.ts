import { describe, expect, it } from 'vitest';
import { buildMediaPlaylist, renderMediaPlaylist, Segmenter } from '../../core/hls/index.js';
import {
  newParts,
  type PlaylistPosition,
  playlistFigures,
  readPlaylistPosition,
} from '../../local/playlist-stats.js';

const TIMESCALE = 90_000;
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');

/** The `part`th 100 ms part (a keyframe every 0.5 s, the seed's targets), published at wall-clock `atMs`. */
function addPart(segmenter: Segmenter, part: number, atMs: number): void {
  segmenter.addPart(
    {
      baseDecodeTime: part * 9000,
      duration: 9000,
      timescale: TIMESCALE,
      independent: part % 5 === 0,
      bytes: 1000,
      initVersion: 1,
    },
    atMs,
  );
}

/**
 * The packager's real segmenter and playlist renderer fed 100 ms parts (a keyframe every 0.5 s, the
 * seed's targets) on a simulated wall clock; the status line's computation polls the playlist every
 * `pollMs` and divides the parts it counts by the wall time between polls.
 */
function measuredRate(options: {
  pollMs: number;
  seconds: number;
  /** Wall-clock windows (ms from the start) in which no part is published (a stalled encoder). */
  stalls?: readonly (readonly [number, number])[];
}): number {
  const segmenter = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: 'mh3k2x9a7q4f' });
  const render = () => renderMediaPlaylist(buildMediaPlaylist(segmenter.timeline()));
  let published = 0;
  let counted = 0;
  let before: PlaylistPosition | undefined;
  let firstPollMs: number | undefined;
  let lastPollMs = 0;
  let part = 0;
  for (let nowMs = 0; nowMs <= options.seconds * 1000; nowMs += 100) {
    const stalled = options.stalls?.some(([from, to]) => nowMs >= from && nowMs < to) ?? false;
    if (!stalled) {
      addPart(segmenter, part, START_MS + nowMs);
      part++;
      if (firstPollMs !== undefined) published++;
    }
    // Poll once the first second of media exists, then every pollMs.
    if (nowMs >= 1000 && (firstPollMs === undefined || nowMs - lastPollMs >= options.pollMs)) {
      const position = readPlaylistPosition(render());
      counted += newParts(before, position);
      before = position;
      firstPollMs ??= nowMs;
      lastPollMs = nowMs;
    }
  }
  // The simulation itself must publish what it claims, or the rate below proves nothing.
  expect(published).toBeGreaterThan(0);
  return (counted * 1000) / (lastPollMs - (firstPollMs ?? 0));
}

describe('parts per second from two polls of a playlist', () => {
  it('reads 10/s for 100 ms parts at the status line default interval (5 s), longer than the part retention', () => {
    // The playlist carries parts only for the last three target durations (3 s): counting listed parts
    // alone gave 6.2/s here (7/s on the running platform).
    expect(measuredRate({ pollMs: 5000, seconds: 60 })).toBeCloseTo(10, 1);
  });

  it('reads 10/s at any interval, within and beyond the 20-segment window', () => {
    for (const pollMs of [1000, 2000, 3000, 4000, 7000, 9000, 15_000, 30_000]) {
      expect({ pollMs, rate: measuredRate({ pollMs, seconds: 121 }) }).toEqual({
        pollMs,
        rate: expect.closeTo(10, 1),
      });
    }
  });

  it('shows a stall: 2 s without parts in every 5 s poll read 6/s', () => {
    const stalls = Array.from({ length: 12 }, (_, i) => [2000 + i * 5000, 4000 + i * 5000] as const);
    expect(measuredRate({ pollMs: 5000, seconds: 60, stalls })).toBeCloseTo(6, 1);
  });

  it('summarises each listed segment with its duration and the parts it still carries', () => {
    const segmenter = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: 'mh3k2x9a7q4f' });
    for (let part = 0; part < 52; part++) {
      addPart(segmenter, part, START_MS + part * 100);
    }
    const position = readPlaylistPosition(renderMediaPlaylist(buildMediaPlaylist(segmenter.timeline())));
    // 10 complete segments (msn 0-9) and the open msn 10 with 2 parts; parts kept on the last 3 s.
    expect(position.segments).toHaveLength(11);
    expect(position.segments[0]).toEqual({ msn: 0, durationS: 0.5, parts: 0 });
    expect(position.segments.at(-2)).toEqual({ msn: 9, durationS: 0.5, parts: 5 });
    expect(position.segments.at(-1)).toEqual({ msn: 10, parts: 2 });
    expect([position.lastMsn, position.lastPart]).toEqual([10, 1]);
    expect(position.liveEdgeMs).toBe(START_MS + 5200);
  });
});

describe('the status line figures of one poll', () => {
  const playlistAfter = (parts: number) => {
    const segmenter = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast: 'mh3k2x9a7q4f' });
    for (let part = 0; part < parts; part++) addPart(segmenter, part, START_MS + part * 100);
    return readPlaylistPosition(renderMediaPlaylist(buildMediaPlaylist(segmenter.timeline())));
  };

  it('reads latency as the poll time minus the live edge, and no rate without an earlier poll', () => {
    const poll = { position: playlistAfter(20), atMs: START_MS + 2300 };
    // 20 parts end at 2.0 s of wall clock.
    expect(playlistFigures(poll, undefined)).toEqual({ latencyMs: 300, partsPerSecond: undefined });
  });

  it('divides the parts published since the earlier poll by the wall time between the two', () => {
    const before = { position: playlistAfter(20), atMs: START_MS + 2000 };
    const poll = { position: playlistAfter(40), atMs: START_MS + 4000 };
    expect(playlistFigures(poll, before).partsPerSecond).toBeCloseTo(10, 5);
    // Two polls in the same millisecond give no rate rather than a division by zero.
    expect(playlistFigures({ ...poll, atMs: before.atMs }, before).partsPerSecond).toBeUndefined();
  });

  it('leaves latency unknown for a playlist without PROGRAM-DATE-TIME', () => {
    const position = readPlaylistPosition('#EXTM3U\n#EXT-X-TARGETDURATION:1\n');
    expect(playlistFigures({ position, atMs: START_MS }, undefined).latencyMs).toBeUndefined();
  });
});
