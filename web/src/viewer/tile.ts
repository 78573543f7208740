// One tile of the wall: a video with its overlay, playing what the session's answer says. Its figures are
// published as data-* attributes for tests and diagnostics.
import type { TileDelivery } from '../bandwidth.js';
import { h, text } from '../dom.js';
import { behindLabel, SCRUB_STEPS, scrubPosition, scrubTime } from './dvr-model.js';
import { seekWindow, startDvrPlayer } from './dvr-player.js';
import type { TileRect, TileView } from './model.js';
import { type DeliveryMark, deliveryBetween, overlayFigures, placement, tileState } from './tile-model.js';
import {
  pinLevel,
  playingBitrate,
  playingRendition,
  resyncIfBehind,
  startPlayer,
  type TilePlayer,
} from './tile-player.js';

/** After a fatal error, the tile loads the stream again this much later: it may come (back) online. */
const RETRY_MS = 3000;

export class Tile {
  readonly el = document.createElement('div');
  readonly video = document.createElement('video');
  private readonly overlay = document.createElement('div');
  private readonly audio = document.createElement('span');
  private player: TilePlayer | undefined;
  streamId: string | null = null;
  rendition: string | null = null;
  private lastTime = 0;
  private lastProgressAt = Date.now();
  private lastQuality = { dropped: 0, decoded: 0 };
  private playedS = 0;
  private lastDelivery: DeliveryMark = { atMs: Date.now(), playedS: 0, stalls: 0 };
  private fatal = false;
  /** Published: stalls (`waiting` after playback started), re-syncs to the live edge, fatal hls.js errors. */
  private playing = false;
  private stalls = 0;
  private resyncs = 0;
  private fatalErrors: string[] = [];
  /** `live`: the LL-HLS playlist; `dvr`: the DVR window's (decision D43), seekable back to its start. */
  mode: 'live' | 'dvr' = 'live';
  private master: string | null = null;
  private dvr: string | null = null;
  private readonly dvrButton = h('button', { type: 'button', className: 'dvr-toggle', textContent: 'DVR' });
  private readonly liveButton = h('button', { type: 'button', className: 'go-live', textContent: 'Go live' });
  private readonly scrubber = h('input', {
    type: 'range',
    className: 'scrubber',
    min: '0',
    max: String(SCRUB_STEPS),
  });
  private readonly behind = text('span', '', 'behind');
  private readonly dvrBar = h('div', { className: 'dvr-bar' });

  constructor(
    readonly index: number,
    onClick: (index: number) => void,
  ) {
    this.el.className = 'tile';
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.overlay.className = 'overlay';
    this.audio.className = 'audio';
    this.dvrBar.append(this.dvrButton, this.scrubber, this.behind, this.liveButton);
    this.el.append(this.video, this.overlay, this.audio, this.dvrBar);
    // The bar's controls act on this tile only: a click on them does not also focus it.
    this.dvrBar.addEventListener('click', (event) => event.stopPropagation());
    this.dvrButton.addEventListener('click', () => this.enterDvr());
    this.liveButton.addEventListener('click', () => this.goLive());
    this.scrubber.addEventListener('input', () => this.seekDvr(Number(this.scrubber.value)));
    this.el.addEventListener('click', () => onClick(index));
    this.el.dataset.index = String(index);
    this.video.addEventListener('playing', () => {
      this.playing = true;
    });
    this.video.addEventListener('waiting', () => {
      if (this.playing) this.stalls++;
      this.playing = false;
    });
    // Media played at the natural pace (seeks and re-syncs excluded), for the bandwidth floor.
    let lastTimeUpdate = 0;
    this.video.addEventListener('timeupdate', () => {
      const step = this.video.currentTime - lastTimeUpdate;
      lastTimeUpdate = this.video.currentTime;
      if (step > 0 && step < 1) this.playedS += step;
    });
  }

  place(rect: TileRect, gapPx: number): void {
    Object.assign(this.el.style, placement(rect, gapPx));
  }

  /** Applies the session's answer for this tile: a new stream reloads, a new rendition switches levels. */
  apply(view: TileView, name: string): void {
    if (view.streamId !== this.streamId) {
      this.destroyPlayer();
      this.streamId = view.streamId;
      this.rendition = null;
      this.playing = false;
      this.stalls = 0;
      this.lastDelivery = { atMs: Date.now(), playedS: this.playedS, stalls: 0 };
      this.resyncs = 0;
      this.fatalErrors = [];
      this.el.dataset.stream = view.streamId ?? '';
      this.master = view.master;
      this.mode = 'live';
      if (view.master) this.load(view.master);
    }
    this.dvr = view.dvr ?? null;
    this.el.dataset.name = name;
    if (view.rendition !== this.rendition) {
      this.rendition = view.rendition;
      this.el.dataset.rendition = view.rendition ?? '';
      this.pinLevel();
    }
    this.render();
  }

  setFocused(focused: boolean): void {
    this.el.classList.toggle('focused', focused);
    // Audio follows focus.
    this.video.muted = !focused;
    this.audio.textContent = focused && this.streamId ? 'audio' : '';
  }

  /** Plays the DVR window (decision D43) from its newest segments; the scrubber then seeks back in it. */
  enterDvr(): void {
    if (this.dvr === null || this.mode === 'dvr') return;
    this.destroyPlayer();
    this.mode = 'dvr';
    this.load(this.dvr);
    this.render();
  }

  /** One action back to the live LL-HLS playlist, at its live edge. */
  goLive(): void {
    if (this.mode === 'live' || this.master === null) return;
    this.destroyPlayer();
    this.mode = 'live';
    this.load(this.master);
    this.render();
  }

  /** Scrubber position (0..SCRUB_STEPS) to a time within the DVR window. */
  seekDvr(position: number): void {
    const window = seekWindow(this.video);
    if (this.mode !== 'dvr' || window === undefined) return;
    this.video.currentTime = scrubTime(position, window);
  }

  private load(url: string): void {
    this.fatal = false;
    this.lastProgressAt = Date.now();
    const start = this.mode === 'dvr' ? startDvrPlayer : startPlayer;
    const player = start(this.video, url, {
      onManifest: () => this.pinLevel(),
      onLevelSwitched: () => this.render(),
      onFatal: (error) => {
        this.fatal = true;
        this.fatalErrors.push(error);
        this.render();
        setTimeout(() => {
          if (this.player === player && this.streamId) {
            this.destroyPlayer();
            this.load(url);
          }
        }, RETRY_MS);
      },
    });
    this.player = player;
  }

  private destroyPlayer(): void {
    this.player?.destroy();
    this.player = undefined;
    this.video.removeAttribute('src');
  }

  private pinLevel(): void {
    if (this.player) pinLevel(this.player.hls, this.rendition);
  }

  /** Rendition actually playing (the level hls.js switched to). */
  playingRendition(): string | null {
    return this.player ? playingRendition(this.player.hls) : null;
  }

  bandwidthBps(): number {
    return this.player?.hls.bandwidthEstimate ?? 0;
  }

  /** What this tile played since the last call (one call per heartbeat). */
  delivery(): TileDelivery {
    const bitrate = this.player ? playingBitrate(this.player.hls) : undefined;
    const now = { atMs: Date.now(), playedS: this.playedS, stalls: this.stalls };
    const last = this.lastDelivery;
    this.lastDelivery = now;
    return deliveryBetween(last, now, this.video.paused || bitrate === undefined ? 0 : bitrate);
  }

  /** Dropped and decoded frames since the last call. */
  frames(): { droppedFrames: number; decodedFrames: number } {
    const q = this.video.getVideoPlaybackQuality?.();
    if (!q) return { droppedFrames: 0, decodedFrames: 0 };
    const result = {
      droppedFrames: Math.max(0, q.droppedVideoFrames - this.lastQuality.dropped),
      decodedFrames: Math.max(0, q.totalVideoFrames - this.lastQuality.decoded),
    };
    this.lastQuality = { dropped: q.droppedVideoFrames, decoded: q.totalVideoFrames };
    return result;
  }

  /** Latency from the playlist's PROGRAM-DATE-TIME to now, else hls.js's own estimate. */
  latencyMs(): number | null {
    return this.pdtLatencyMs() ?? this.behindEdgeMs();
  }

  /** Ingest to display: wall clock minus the PROGRAM-DATE-TIME of the frame on screen. */
  private pdtLatencyMs(): number | null {
    const date = this.player?.hls.playingDate;
    return date ? Date.now() - date.getTime() : null;
  }

  /** hls.js's distance behind the playlist's live edge (0 until known). */
  private behindEdgeMs(): number | null {
    const latency = this.player?.hls.latency;
    return latency ? latency * 1000 : null;
  }

  /** Jumps to the live sync point when too far behind it (tile-model.ts RESYNC_BEHIND_S). */
  private resync(): void {
    // Time-shifted playback is meant to be behind: only the live mode keeps to the live edge.
    if (!this.player || this.video.paused || this.rendition === null || this.mode === 'dvr') return;
    if (resyncIfBehind(this.player.hls, this.video)) this.resyncs++;
  }

  tick(): void {
    this.resync();
    const t = this.video.currentTime;
    if (t > this.lastTime + 0.01) {
      this.lastTime = t;
      this.lastProgressAt = Date.now();
    }
    this.el.dataset.currentTime = t.toFixed(2);
    this.el.dataset.playing = this.playingRendition() ?? '';
    this.renderDvr();
    this.render();
  }

  /** The DVR bar: the toggle while live, the scrubber and "Go live" while time-shifted; its figures as data-*. */
  private renderDvr(): void {
    this.el.dataset.mode = this.mode;
    this.dvrBar.hidden = this.dvr === null || this.streamId === null;
    this.dvrButton.hidden = this.mode === 'dvr';
    this.scrubber.hidden = this.liveButton.hidden = this.behind.hidden = this.mode === 'live';
    const window = this.mode === 'dvr' ? seekWindow(this.video) : undefined;
    this.el.dataset.dvrStart = window ? window.start.toFixed(2) : '';
    this.el.dataset.dvrEnd = window ? window.end.toFixed(2) : '';
    if (window === undefined) return;
    // Not while the viewer drags it.
    if (document.activeElement !== this.scrubber) {
      this.scrubber.value = String(scrubPosition(this.video.currentTime, window));
    }
    this.behind.textContent = behindLabel(this.video.currentTime, window);
  }

  private render(): void {
    const state = tileState({
      streamId: this.streamId,
      rendition: this.rendition,
      fatal: this.fatal,
      msSinceProgress: Date.now() - this.lastProgressAt,
    });
    this.el.dataset.state = state;
    this.overlay.replaceChildren();
    if (state === 'empty') {
      this.overlay.append(text('span', 'empty tile', 'muted'));
      return;
    }
    const latency = this.latencyMs();
    this.overlay.append(
      text('span', '', `dot ${state === 'live' ? 'live' : 'offline'}`),
      text('span', this.el.dataset.name ?? this.streamId ?? '', 'name'),
      text(
        'span',
        // Time-shifted, the latency is how far back the viewer went: say so rather than `live`.
        overlayFigures(state, this.playingRendition() ?? this.rendition ?? '', latency).replace(
          /^live/,
          this.mode === 'dvr' ? 'DVR' : 'live',
        ),
        'fig',
      ),
    );
    if (latency !== null) this.el.dataset.latencyMs = String(Math.round(latency));
    const pdt = this.pdtLatencyMs();
    const behind = this.behindEdgeMs();
    this.el.dataset.pdtLatencyMs = pdt === null ? '' : String(Math.round(pdt));
    this.el.dataset.behindEdgeMs = behind === null ? '' : String(Math.round(behind));
    this.el.dataset.stalls = String(this.stalls);
    this.el.dataset.resyncs = String(this.resyncs);
    this.el.dataset.fatalErrors = this.fatalErrors.join(',');
  }
}
