// hls.js on a stream's DVR playlist (decision D43): a plain live HLS playlist of long segments, played with
// hls.js's defaults for such playlists, none of the tile's low-latency catch-up (which would pull playback back to
// the live edge, the opposite of time-shift).
import Hls from 'hls.js';
import type { SeekWindow } from './dvr-model.js';
import { DEFAULT_ESTIMATE_BPS, type PlayerEvents, type TilePlayer } from './tile-player.js';

export function startDvrPlayer(
  video: HTMLVideoElement,
  dvr: string,
  events: PlayerEvents,
): TilePlayer | undefined {
  if (!Hls.isSupported()) {
    video.src = dvr;
    return undefined;
  }
  const hls = new Hls({
    lowLatencyMode: false,
    abrEwmaDefaultEstimate: DEFAULT_ESTIMATE_BPS,
    capLevelToPlayerSize: false,
    // Seeking back and forth within a few minutes stays in the buffer; the window itself is hours.
    backBufferLength: 60,
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    events.onManifest();
    void video.play().catch(() => undefined);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, () => events.onLevelSwitched());
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) events.onFatal(`${data.type}:${data.details}`);
  });
  hls.loadSource(dvr);
  hls.attachMedia(video);
  return { hls, destroy: () => hls.destroy() };
}

/** The video's seekable range (the DVR window as loaded), if any. */
export function seekWindow(video: HTMLVideoElement): SeekWindow | undefined {
  const ranges = video.seekable;
  if (ranges.length === 0) return undefined;
  return { start: ranges.start(0), end: ranges.end(ranges.length - 1) };
}
