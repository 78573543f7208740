// Where a live hls.js player aims, as Mirror's viewer tiles and the `<mirror-player>` embed both do.
import Hls from 'hls.js';
import { liveTargetFor } from './live-catchup.js';

/**
 * Aims `hls` at the loaded level's PART-HOLD-BACK plus the slack (liveTargetFor; levels of a `wall` stream differ in
 * part duration), and seeks once to the live sync point when the first media is buffered: hls.js keeps the delay it
 * started with, and its start position ages while the browser prepares playback.
 */
export function followLiveTarget(hls: Hls, video: HTMLMediaElement): void {
  let applied: number | undefined;
  hls.on(Hls.Events.LEVEL_UPDATED, (_event, data) => {
    const target = liveTargetFor(data.details.partHoldBack, applied);
    if (target === undefined) return;
    applied = target;
    hls.targetLatency = target;
  });
  let synced = false;
  hls.on(Hls.Events.FRAG_BUFFERED, () => {
    const sync = hls.liveSyncPosition;
    if (synced || sync === null) return;
    synced = true;
    if (video.currentTime < sync - 0.5) video.currentTime = sync;
  });
}
