// hls.js for one tile: the live configuration, the latency target, and the part-download measure the
// heartbeat reports.
import Hls from 'hls.js';
import { ThroughputEstimate } from '../bandwidth.js';
import { attachLiveCatchUp, LIVE_HLS_CONFIG } from '../live-catchup.js';
import { followLiveTarget } from '../live-target.js';
import { levelFor, renditionOfPlaylist, resyncPosition } from './tile-model.js';

/** hls.js's guess before it has measured anything (its default, 500 kbps, would starve a grid). */
export const DEFAULT_ESTIMATE_BPS = 5_000_000;

/** Download throughput over all tiles' part loads: one shared figure for the link the whole wall shares. */
export const throughput = new ThroughputEstimate();

export interface PlayerEvents {
  /** The multivariant playlist is parsed (the levels are known); playback starts right after. */
  readonly onManifest: () => void;
  readonly onLevelSwitched: () => void;
  /** hls.js gave up, with the error as `type:details`. */
  readonly onFatal: (error: string) => void;
}

export interface TilePlayer {
  readonly hls: Hls;
  destroy(): void;
}

/**
 * Plays `master` in `video` with hls.js, or natively where hls.js is not supported (Safari plays LL-HLS
 * itself; undefined is returned then).
 */
export function startPlayer(
  video: HTMLVideoElement,
  master: string,
  events: PlayerEvents,
): TilePlayer | undefined {
  if (!Hls.isSupported()) {
    video.src = master;
    return undefined;
  }
  const hls = new Hls({
    // Our catch-up sets the rate (hls.js's own never engages at LL-HLS targets, and would reset it).
    ...LIVE_HLS_CONFIG,
    abrEwmaDefaultEstimate: DEFAULT_ESTIMATE_BPS,
    capLevelToPlayerSize: false,
    backBufferLength: 10,
  });
  const stopCatchUp = attachLiveCatchUp(hls, video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    events.onManifest();
    void video.play().catch(() => undefined);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, () => events.onLevelSwitched());
  // Aim a little behind the loaded level's PART-HOLD-BACK; jump once to the live sync point (shared with the embed).
  followLiveTarget(hls, video);
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
    // A part's own figures: for parts hls.js adds each part's bytes to the segment's stats and moves its
    // end on, so those span the parts' publication at the live edge and read as the media bitrate.
    const { loaded, loading } = (data.part ?? data.frag).stats;
    // First byte to last: the time to first byte measures latency, not bandwidth.
    throughput.sample(loaded, loading.end - (loading.first || loading.start));
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) events.onFatal(`${data.type}:${data.details}`);
  });
  hls.loadSource(master);
  hls.attachMedia(video);
  return {
    hls,
    destroy() {
      stopCatchUp();
      hls.destroy();
    },
  };
}

/** Loads the level whose media playlist is `<rendition>/playlist.m3u8`; stops loading when it is null. */
export function pinLevel(hls: Hls, rendition: string | null): void {
  if (hls.levels.length === 0) return;
  if (rendition === null) {
    hls.stopLoad();
    return;
  }
  // Not (yet) produced: the closest we have is the lowest level, the one every stream has.
  const index = levelFor(
    hls.levels.map((level) => level.uri),
    rendition,
  );
  hls.startLoad();
  if (hls.currentLevel === -1 || hls.autoLevelEnabled) hls.startLevel = index;
  hls.nextLevel = index;
}

/** The rendition actually playing (the level hls.js switched to). */
export function playingRendition(hls: Hls): string | null {
  if (hls.currentLevel < 0) return null;
  const url = hls.levels[hls.currentLevel]?.uri ?? '';
  return renditionOfPlaylist(new URL(url, location.href).pathname);
}

/** The bitrate of the level playing, if any. */
export function playingBitrate(hls: Hls): number | undefined {
  return hls.currentLevel >= 0 ? hls.levels[hls.currentLevel]?.bitrate : undefined;
}

/** Jumps to the live sync point when too far behind it (see RESYNC_BEHIND_S); true if it jumped. */
export function resyncIfBehind(hls: Hls, video: HTMLVideoElement): boolean {
  const position = resyncPosition({
    latencyS: hls.latency,
    targetLatencyS: hls.targetLatency,
    liveSyncPosition: hls.liveSyncPosition,
    currentTime: video.currentTime,
  });
  if (position === undefined) return false;
  video.currentTime = position;
  return true;
}
