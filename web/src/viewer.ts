// The multi-view viewer: one hls.js player per tile, a session with the session API, heartbeats answered
// with the rendition each tile should play. Each tile loads the stream's multivariant playlist and the
// answer pins hls.js to that rendition (nextLevel: switches at the next segment boundary, no reload).
import Hls from 'hls.js';
import { reportedBandwidthBps, ThroughputEstimate, type TileDelivery } from './bandwidth.js';
import { attachLiveCatchUp, LIVE_HLS_CONFIG, LIVE_TARGET_SLACK_S } from './live-catchup.js';

interface TileView {
  index: number;
  streamId: string | null;
  rect: { x: number; y: number; w: number; h: number };
  rendition: string | null;
  master: string | null;
}
interface SessionView {
  sessionId: string;
  token?: string;
  layout: string;
  focus: number | null;
  tiles: TileView[];
  heartbeatIntervalMs: number;
  budgetKbps: number;
}
interface PublicStream {
  id: string;
  name: string;
  live: boolean;
}

/** No progress for this long: the tile shows offline. */
const STALL_MS = 5000;
/**
 * Further behind the live edge than the target by this much (s), a tile jumps to the live sync point:
 * catch-up (at most 1.25x) cannot win back seconds lost to stalls on a starved machine, and a wall
 * that falls behind stays behind. hls.js's own re-sync (`liveMaxLatencyDuration`) needs a fixed
 * `liveSyncDuration`, which would replace the playlist's PART-HOLD-BACK as the target. 1.2 s as the
 * latency benchmark's players (bench/latency-harness.ts hlsConfigWithTarget).
 */
const RESYNC_BEHIND_S = 1.2;
/** hls.js's guess before it has measured anything (its default, 500 kbps, would starve a grid). */
const DEFAULT_ESTIMATE_BPS = 5_000_000;

/** Download throughput over all tiles' part loads: one shared figure for the link the whole wall shares. */
const throughput = new ThroughputEstimate();

class Tile {
  readonly el = document.createElement('div');
  readonly video = document.createElement('video');
  private readonly overlay = document.createElement('div');
  private readonly audio = document.createElement('span');
  private hls: Hls | undefined;
  private stopCatchUp: (() => void) | undefined;
  streamId: string | null = null;
  rendition: string | null = null;
  private lastTime = 0;
  private lastProgressAt = Date.now();
  private lastQuality = { dropped: 0, decoded: 0 };
  private playedS = 0;
  private lastDelivery = { atMs: Date.now(), playedS: 0, stalls: 0 };
  private fatal = false;
  /** Published as data-* attributes for tests and diagnostics: stalls (`waiting` after playback started),
   * re-syncs to the live edge, fatal hls.js errors (`type:details`). */
  private playing = false;
  private stalls = 0;
  private resyncs = 0;
  private fatalErrors: string[] = [];

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
    this.el.append(this.video, this.overlay, this.audio);
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

  place(rect: TileView['rect'], gapPx: number): void {
    Object.assign(this.el.style, {
      left: `calc(${rect.x * 100}% + ${gapPx / 2}px)`,
      top: `calc(${rect.y * 100}% + ${gapPx / 2}px)`,
      width: `calc(${rect.w * 100}% - ${gapPx}px)`,
      height: `calc(${rect.h * 100}% - ${gapPx}px)`,
    });
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
      if (view.master) this.load(view.master);
    }
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

  private load(master: string): void {
    this.fatal = false;
    this.lastProgressAt = Date.now();
    if (!Hls.isSupported()) {
      this.video.src = master; // Safari plays LL-HLS natively
      return;
    }
    const hls = new Hls({
      // Our catch-up sets the rate (hls.js's own never engages at LL-HLS targets, and would reset it).
      ...LIVE_HLS_CONFIG,
      abrEwmaDefaultEstimate: DEFAULT_ESTIMATE_BPS,
      capLevelToPlayerSize: false,
      backBufferLength: 10,
    });
    this.hls = hls;
    this.stopCatchUp = attachLiveCatchUp(hls, this.video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.pinLevel();
      void this.video.play().catch(() => undefined);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, () => this.render());
    // Aim a little behind PART-HOLD-BACK (once: setting the target also forgets hls.js's stall count).
    let targeted = false;
    hls.on(Hls.Events.LEVEL_UPDATED, (_event, data) => {
      const { partHoldBack } = data.details;
      if (targeted || !(partHoldBack > 0)) return;
      targeted = true;
      hls.targetLatency = partHoldBack + LIVE_TARGET_SLACK_S;
    });
    // hls.js keeps the delay it started with; jump once to the live sync point when the first media is buffered.
    let synced = false;
    hls.on(Hls.Events.FRAG_BUFFERED, () => {
      const target = hls.liveSyncPosition;
      if (synced || target === null) return;
      synced = true;
      if (this.video.currentTime < target - 0.5) this.video.currentTime = target;
    });
    hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
      // A part's own figures: for parts hls.js adds each part's bytes to the segment's stats and moves its
      // end on, so those span the parts' publication at the live edge and read as the media bitrate.
      const { loaded, loading } = (data.part ?? data.frag).stats;
      // First byte to last: the time to first byte measures latency, not bandwidth.
      throughput.sample(loaded, loading.end - (loading.first || loading.start));
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      this.fatal = true;
      this.fatalErrors.push(`${data.type}:${data.details}`);
      this.render();
      // Retry: the stream may come (back) online.
      setTimeout(() => {
        if (this.hls === hls && this.streamId) {
          this.destroyPlayer();
          this.load(master);
        }
      }, 3000);
    });
    hls.loadSource(master);
    hls.attachMedia(this.video);
  }

  private destroyPlayer(): void {
    this.stopCatchUp?.();
    this.stopCatchUp = undefined;
    this.hls?.destroy();
    this.hls = undefined;
    this.video.removeAttribute('src');
  }

  /** The level whose media playlist is `<rendition>/playlist.m3u8`; paused when the answer is null. */
  private pinLevel(): void {
    const hls = this.hls;
    if (!hls || hls.levels.length === 0) return;
    if (this.rendition === null) {
      hls.stopLoad();
      return;
    }
    const wanted = hls.levels.findIndex((level) => level.uri.includes(`/${this.rendition}/`));
    // Not (yet) produced: the closest we have is the lowest level, the one every stream has.
    const index = Math.max(wanted, 0);
    hls.startLoad();
    if (hls.currentLevel === -1 || hls.autoLevelEnabled) hls.startLevel = index;
    hls.nextLevel = index;
  }

  /** Rendition actually playing (the level hls.js switched to). */
  playingRendition(): string | null {
    const hls = this.hls;
    if (!hls || hls.currentLevel < 0) return null;
    const url = hls.levels[hls.currentLevel]?.uri ?? '';
    return /\/([^/]+)\/[^/]+\.m3u8/.exec(new URL(url, location.href).pathname)?.[1] ?? null;
  }

  bandwidthBps(): number {
    return this.hls?.bandwidthEstimate ?? 0;
  }

  /** What this tile played since the last call (one call per heartbeat). */
  delivery(): TileDelivery {
    const hls = this.hls;
    const level = hls && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : undefined;
    const now = { atMs: Date.now(), playedS: this.playedS, stalls: this.stalls };
    const last = this.lastDelivery;
    this.lastDelivery = now;
    return {
      bitrateBps: this.video.paused || !level ? 0 : level.bitrate,
      playedS: Math.max(0, now.playedS - last.playedS),
      intervalS: (now.atMs - last.atMs) / 1000,
      stalls: Math.max(0, now.stalls - last.stalls),
    };
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
    const date = this.hls?.playingDate;
    return date ? Date.now() - date.getTime() : null;
  }

  /** hls.js's distance behind the playlist's live edge (0 until known). */
  private behindEdgeMs(): number | null {
    const latency = this.hls?.latency;
    return latency ? latency * 1000 : null;
  }

  /** Jumps to the live sync point when too far behind it (see RESYNC_BEHIND_S). */
  private resync(): void {
    const hls = this.hls;
    if (!hls || this.video.paused || this.rendition === null) return;
    const target = hls.targetLatency;
    const position = hls.liveSyncPosition;
    if (target === null || position === null || !(hls.latency > target + RESYNC_BEHIND_S)) return;
    if (this.video.currentTime >= position) return;
    this.video.currentTime = position;
    this.resyncs++;
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
    this.render();
  }

  private state(): 'live' | 'offline' | 'empty' | 'paused' {
    if (!this.streamId) return 'empty';
    if (this.rendition === null) return 'paused';
    if (this.fatal || Date.now() - this.lastProgressAt > STALL_MS) return 'offline';
    return 'live';
  }

  private render(): void {
    const state = this.state();
    this.el.dataset.state = state;
    this.overlay.replaceChildren();
    if (state === 'empty') {
      this.overlay.append(text('span', 'empty tile', 'muted'));
      return;
    }
    const dot = text('span', '', `dot ${state === 'live' ? 'live' : 'offline'}`);
    const latency = this.latencyMs();
    const figures = [
      state === 'paused' ? 'paused: bandwidth' : state,
      this.playingRendition() ?? this.rendition ?? '',
      latency !== null && state === 'live' ? `${(latency / 1000).toFixed(1)} s` : '',
    ].filter(Boolean);
    this.overlay.append(
      dot,
      text('span', this.el.dataset.name ?? this.streamId ?? '', 'name'),
      text('span', figures.join(' · '), 'fig'),
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

function text(tag: string, content: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

class Viewer {
  private session: SessionView | undefined;
  private token = '';
  private tiles: Tile[] = [];
  private streams: PublicStream[] = [];
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** Session calls run one at a time: an overlapping heartbeat's answer could be shown after a newer update's,
   * and overlapping writes to one session make the server retry or answer 409 (compare-and-set, decision D14). */
  private sessionCalls: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly wall: HTMLElement,
    private readonly list: HTMLElement,
    private readonly layoutPicker: HTMLSelectElement,
    private readonly budget: HTMLElement,
  ) {
    layoutPicker.addEventListener('change', () => void this.update({ layout: layoutPicker.value }));
    setInterval(() => {
      for (const tile of this.tiles) tile.tick();
    }, 250);
    setInterval(() => void this.refreshStreams(), 5000);
    addEventListener('pagehide', () => {
      if (this.session) {
        void fetch(`/api/sessions/${this.session.sessionId}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${this.token}` },
          keepalive: true,
        });
      }
    });
  }

  async start(): Promise<void> {
    await this.refreshStreams();
    const params = new URLSearchParams(location.search);
    const layout = params.get('layout') ?? '2x2';
    this.layoutPicker.value = layout;
    const wanted = params.get('streams')?.split(',').filter(Boolean);
    const capacity = Number(/^(\d)x\1$/.exec(layout)?.[1] ?? 0) ** 2 || (layout === 'pip' ? 2 : 5);
    const tiles = (wanted ?? this.streams.filter((s) => s.live).map((s) => s.id)).slice(0, capacity);
    const response = await this.api('POST', '/api/sessions', { layout, tiles });
    if (!response) return;
    this.token = response.token ?? '';
    this.show(response);
    // Tell the allocator the tile sizes at once, so focus can get more than the tile rung.
    this.scheduleHeartbeat(300);
  }

  private async refreshStreams(): Promise<void> {
    const response = await fetch('/api/sessions/streams');
    if (!response.ok) return;
    this.streams = ((await response.json()) as { streams: PublicStream[] }).streams;
    this.list.replaceChildren(
      ...this.streams.map((s) => {
        const li = document.createElement('li');
        li.dataset.stream = s.id;
        li.append(text('span', '', `dot ${s.live ? 'live' : 'offline'}`), text('span', s.name));
        li.addEventListener('click', () => void this.putStream(s.id));
        return li;
      }),
    );
  }

  private async putStream(streamId: string): Promise<void> {
    const session = this.session;
    if (!session) return;
    const index = session.focus ?? session.tiles.find((t) => t.streamId === null)?.index ?? 0;
    await this.update({ tile: { index, streamId } });
  }

  private async focus(index: number): Promise<void> {
    const session = this.session;
    if (!session?.tiles[index]?.streamId) return;
    // Audio follows at once; the rendition follows the session's answer.
    this.tiles.forEach((t) => {
      t.setFocused(t.index === index);
    });
    await this.update({ focus: index });
  }

  private exclusive<T>(call: () => Promise<T>): Promise<T> {
    const result = this.sessionCalls.then(call, call);
    this.sessionCalls = result.catch(() => undefined);
    return result;
  }

  private update(change: Record<string, unknown>): Promise<void> {
    return this.exclusive(async () => {
      if (!this.session) return;
      const response = await this.api('PATCH', `/api/sessions/${this.session.sessionId}`, change);
      if (response) {
        this.show(response);
        this.scheduleHeartbeat(300);
      }
    });
  }

  private show(session: SessionView): void {
    this.session = session;
    this.layoutPicker.value = session.layout;
    this.budget.textContent = `budget ${(session.budgetKbps / 1000).toFixed(1)} Mbps`;
    while (this.tiles.length > session.tiles.length) this.tiles.pop()?.el.remove();
    while (this.tiles.length < session.tiles.length) {
      const tile = new Tile(this.tiles.length, (i) => void this.focus(i));
      this.tiles.push(tile);
      this.wall.append(tile.el);
    }
    for (const view of session.tiles) {
      const tile = this.tiles[view.index] as Tile;
      tile.place(view.rect, 6);
      const name = this.streams.find((s) => s.id === view.streamId)?.name ?? view.streamId ?? '';
      tile.apply(view, name);
      tile.setFocused(view.index === session.focus);
    }
  }

  private scheduleHeartbeat(delayMs: number): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  private heartbeat(): Promise<void> {
    return this.exclusive(async () => {
      const session = this.session;
      if (!session) return;
      const dpr = devicePixelRatio || 1;
      // Our own measure of part downloads, else the best of the players' estimates; never below what
      // the wall demonstrably receives (web/src/bandwidth.ts).
      const measured = throughput.bps || Math.max(0, ...this.tiles.map((t) => t.bandwidthBps()));
      const delivered = this.tiles.map((t) => t.delivery());
      const body = {
        bandwidthKbps: Math.round(reportedBandwidthBps(measured, delivered, DEFAULT_ESTIMATE_BPS) / 1000),
        tiles: this.tiles.map((t) => {
          const box = t.el.getBoundingClientRect();
          return {
            widthPx: Math.round(box.width * dpr),
            heightPx: Math.round(box.height * dpr),
            ...t.frames(),
          };
        }),
      };
      const response = await this.api('POST', `/api/sessions/${session.sessionId}/heartbeat`, body);
      if (response) this.show(response);
      this.scheduleHeartbeat(this.session?.heartbeatIntervalMs ?? 5000);
    });
  }

  private async api(method: string, path: string, body?: unknown): Promise<SessionView | undefined> {
    const response = await fetch(path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 404 && this.session) {
      // Session expired (tab asleep): start a new one with the same wall.
      const tiles = this.session.tiles.map((t) => t.streamId);
      this.session = undefined;
      this.token = '';
      const fresh = await this.api('POST', '/api/sessions', { layout: this.layoutPicker.value, tiles });
      if (fresh) this.token = fresh.token ?? '';
      return fresh;
    }
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { field?: string; message?: string };
      this.budget.textContent = `error: ${problem.message ?? response.status}`;
      return undefined;
    }
    return (await response.json()) as SessionView;
  }
}

const wall = document.getElementById('wall');
const list = document.getElementById('streams');
const picker = document.getElementById('layout');
const budget = document.getElementById('budget');
if (wall && list && picker instanceof HTMLSelectElement && budget) {
  const viewer = new Viewer(wall, list, picker, budget);
  (window as unknown as { mirrorViewer: Viewer }).mirrorViewer = viewer;
  void viewer.start();
}
