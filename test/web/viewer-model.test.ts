import { describe, expect, it } from 'vitest';
import {
  initialWall,
  layoutCapacity,
  type PublicStream,
  tileForPickedStream,
} from '../../web/src/viewer/model.js';
import {
  deliveryBetween,
  levelFor,
  overlayFigures,
  placement,
  RESYNC_BEHIND_S,
  renditionOfPlaylist,
  resyncPosition,
  STALL_MS,
  tileState,
} from '../../web/src/viewer/tile-model.js';

const STREAMS: PublicStream[] = [
  { id: 'a', name: 'A', live: true },
  { id: 'b', name: 'B', live: false },
  { id: 'c', name: 'C', live: true },
  { id: 'd', name: 'D', live: true },
  { id: 'e', name: 'E', live: true },
  { id: 'f', name: 'F', live: true },
];

describe('the wall', () => {
  it('holds N² tiles in an NxN grid, 2 in picture-in-picture and 5 in the focus layouts', () => {
    expect([layoutCapacity('2x2'), layoutCapacity('3x3'), layoutCapacity('pip')]).toEqual([4, 9, 2]);
    expect([layoutCapacity('1+4'), layoutCapacity('2x3')]).toEqual([5, 5]);
  });

  it('opens with the live streams on a 2x2 wall, or the layout and streams the query names', () => {
    expect(initialWall('', STREAMS)).toEqual({ layout: '2x2', tiles: ['a', 'c', 'd', 'e'] });
    expect(initialWall('?layout=pip&streams=b,,f,a', STREAMS)).toEqual({ layout: 'pip', tiles: ['b', 'f'] });
  });

  it('puts a picked stream on the focused tile, else the first empty one, else the first', () => {
    const tiles = [
      { index: 0, streamId: 'a' },
      { index: 1, streamId: null },
      { index: 2, streamId: null },
    ];
    expect(tileForPickedStream({ focus: 2, tiles })).toBe(2);
    expect(tileForPickedStream({ focus: null, tiles })).toBe(1);
    expect(tileForPickedStream({ focus: null, tiles: [tiles[0]] })).toBe(0);
  });
});

describe('a tile', () => {
  const live = { streamId: 'a', rendition: '360p', fatal: false, msSinceProgress: 0 };

  it('is empty without a stream, paused without a rendition, offline after an error or a stall', () => {
    expect(tileState({ ...live, streamId: null, rendition: null })).toBe('empty');
    expect(tileState({ ...live, rendition: null, fatal: true })).toBe('paused');
    expect(tileState({ ...live, fatal: true })).toBe('offline');
    expect(tileState({ ...live, msSinceProgress: STALL_MS + 1 })).toBe('offline');
    expect(tileState({ ...live, msSinceProgress: STALL_MS })).toBe('live');
  });

  it('shows latency only while live, and says why a paused tile is paused', () => {
    expect(overlayFigures('live', '720p', 1260)).toBe('live · 720p · 1.3 s');
    expect(overlayFigures('offline', '720p', 1260)).toBe('offline · 720p');
    expect(overlayFigures('paused', '', null)).toBe('paused: bandwidth');
  });

  it('is placed by fractions of the wall with half the gap on each side', () => {
    expect(placement({ x: 0.5, y: 0, w: 0.5, h: 1 }, 6)).toEqual({
      left: 'calc(50% + 3px)',
      top: 'calc(0% + 3px)',
      width: 'calc(50% - 6px)',
      height: 'calc(100% - 6px)',
    });
  });

  it('plays the level of its rendition, or the lowest while that rendition is not produced', () => {
    const uris = ['https://x/cam-1/360p/playlist.m3u8', 'https://x/cam-1/720p/playlist.m3u8'];
    expect(levelFor(uris, '720p')).toBe(1);
    expect(levelFor(uris, '1080p')).toBe(0);
    expect(renditionOfPlaylist('/cam-1/720p/playlist.m3u8')).toBe('720p');
  });

  it('jumps to the live sync point only when further behind the target than RESYNC_BEHIND_S', () => {
    const player = { targetLatencyS: 1, liveSyncPosition: 50, currentTime: 40 };
    expect(resyncPosition({ ...player, latencyS: 1 + RESYNC_BEHIND_S + 0.1 })).toBe(50);
    expect(resyncPosition({ ...player, latencyS: 1 + RESYNC_BEHIND_S })).toBeUndefined();
    expect(resyncPosition({ ...player, latencyS: 5, currentTime: 50 })).toBeUndefined();
    expect(resyncPosition({ ...player, latencyS: 5, targetLatencyS: null })).toBeUndefined();
  });

  it('reports what it played between two heartbeats', () => {
    const last = { atMs: 10_000, playedS: 3, stalls: 1 };
    expect(deliveryBetween(last, { atMs: 15_000, playedS: 7.5, stalls: 2 }, 400_000)).toEqual({
      bitrateBps: 400_000,
      playedS: 4.5,
      intervalS: 5,
      stalls: 1,
    });
    // Counters reset for a new stream never read as negative.
    expect(deliveryBetween(last, { atMs: 15_000, playedS: 0, stalls: 0 }, 0)).toMatchObject({
      playedS: 0,
      stalls: 0,
    });
  });
});
