// `<mirror-player src="https://edge/cam-1/master.m3u8">`: Mirror's live player as one ES module (docs/player.md).
// It is hls.js with what Mirror's viewer adds to it, because stock hls.js keeps whatever delay it starts with
// (its own rate control never engages at LL-HLS targets: web/src/live-catchup.ts):
// - LIVE_HLS_CONFIG: lowLatencyMode, hls.js's rate control off (ours sets the rate), a stall raising the target by a
//   part instead of a second, and load retries that ride out a minute of origin trouble;
// - the target follows the loaded level's PART-HOLD-BACK plus LIVE_TARGET_SLACK_S (liveTargetFor);
// - one seek to the live sync point once the first media is buffered (the start position ages during start-up);
// - catch-up at up to 1.25x while behind the target, and the tile's re-sync rule (resyncPosition) once a second
//   for a player that fell seconds behind (a stall on a starved machine, a tab in the background).
// Where hls.js cannot run (Safari on iOS has no MSE in the page), the video element plays the URL natively: Apple's
// players implement LL-HLS themselves.
import Hls from 'hls.js';
import { attachLiveCatchUp, LIVE_HLS_CONFIG } from '../live-catchup.js';
import { followLiveTarget } from '../live-target.js';
import { resyncPosition } from '../viewer/tile-model.js';

/** How often the re-sync rule is checked (ms): it acts on seconds of delay, so a second is fine-grained enough. */
const RESYNC_CHECK_MS = 1000;

/** Attributes passed on to the inner video element as they are. */
const VIDEO_ATTRIBUTES = ['controls', 'muted', 'poster'] as const;

export class MirrorPlayer extends HTMLElement {
  static readonly observedAttributes = ['src', ...VIDEO_ATTRIBUTES];

  /** The inner video element (autoplaying, muted unless the `muted` attribute is set to "false"). */
  readonly video: HTMLVideoElement;
  #hls: Hls | undefined;
  #stop: (() => void) | undefined;

  constructor() {
    super();
    this.video = document.createElement('video');
    this.video.playsInline = true;
    this.video.autoplay = true;
    // Browsers only autoplay muted video; a page that wants sound sets muted="false" and plays on a user gesture.
    this.video.muted = true;
    this.video.style.cssText = 'width:100%;height:100%;display:block;background:#000';
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ':host{display:inline-block;width:640px;aspect-ratio:16/9}';
    root.append(style, this.video);
  }

  /** The hls.js instance (undefined before `src` is set, or when the browser plays the stream natively). */
  get hls(): Hls | undefined {
    return this.#hls;
  }

  connectedCallback(): void {
    if (this.#stop === undefined) this.#load();
  }

  disconnectedCallback(): void {
    this.#unload();
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (name === 'src') {
      if (previous !== value && this.isConnected) this.#load();
      return;
    }
    if (name === 'muted') this.video.muted = value !== 'false';
    else if (name === 'controls') this.video.controls = value !== null && value !== 'false';
    else if (name === 'poster') this.video.poster = value ?? '';
  }

  #load(): void {
    this.#unload();
    const src = this.getAttribute('src');
    if (!src) return;
    if (!Hls.isSupported()) {
      this.video.src = src;
      this.#stop = () => this.video.removeAttribute('src');
      return;
    }
    const hls = new Hls({ ...LIVE_HLS_CONFIG, backBufferLength: 10 });
    this.#hls = hls;
    const stopCatchUp = attachLiveCatchUp(hls, this.video);
    followLiveTarget(hls, this.video);
    const resync = setInterval(() => {
      const position = resyncPosition({
        latencyS: hls.latency,
        targetLatencyS: hls.targetLatency,
        liveSyncPosition: hls.liveSyncPosition,
        currentTime: this.video.currentTime,
      });
      if (position !== undefined) this.video.currentTime = position;
    }, RESYNC_CHECK_MS);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      void this.video.play().catch(() => undefined);
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      this.dispatchEvent(new CustomEvent('error', { detail: `${data.type}:${data.details}` }));
    });
    hls.loadSource(src);
    hls.attachMedia(this.video);
    this.#stop = () => {
      clearInterval(resync);
      stopCatchUp();
      hls.destroy();
    };
  }

  #unload(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#hls = undefined;
  }
}

if (typeof customElements !== 'undefined' && customElements.get('mirror-player') === undefined) {
  customElements.define('mirror-player', MirrorPlayer);
}

declare global {
  interface HTMLElementTagNameMap {
    'mirror-player': MirrorPlayer;
  }
}
