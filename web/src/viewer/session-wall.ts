// The wall as the session API has it: the session's answers placed as tiles, changes (layout, focus, a
// stream put on a tile) sent as updates, and heartbeats answered with each tile's rendition.
import { SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { HEARTBEAT } from '../../../core/sessions/heartbeat-policy.js';
import { Backoff, HeartbeatSchedule, jittered } from '../heartbeat-schedule.js';
import { entitlementFromFragment, entitlementFromMessage } from './entitlement.js';
import { heartbeatBody } from './heartbeat.js';
import { initialWall, type PublicStream, type SessionView, tileForPickedStream } from './model.js';
import { SessionClient } from './session-client.js';
import { fetchStreams, renderStreamList } from './stream-list.js';
import { Tile } from './tile.js';

/** Pixels between neighbouring tiles. */
const TILE_GAP_PX = 6;

export class Viewer {
  private session: SessionView | undefined;
  private readonly client = new SessionClient();
  private tiles: Tile[] = [];
  private streams: PublicStream[] = [];
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** When to beat next (heartbeat-schedule.ts): the API's interval, early on a stall, backoff on failures. */
  private readonly schedule = new HeartbeatSchedule();
  /** Stalls of all tiles as of the last look: a rise means a tile is in trouble. */
  private stallsSeen = 0;

  constructor(
    private readonly wall: HTMLElement,
    private readonly list: HTMLElement,
    private readonly layoutPicker: HTMLSelectElement,
    private readonly budget: HTMLElement,
  ) {
    layoutPicker.addEventListener('change', () => void this.update({ layout: layoutPicker.value }));
    setInterval(() => {
      for (const tile of this.tiles) tile.tick();
      this.watchStalls();
    }, 250);
    addEventListener('pagehide', () => {
      if (this.session) this.client.end(this.session.sessionId);
    });
    this.client.entitlement = entitlementFromFragment(location.hash);
    // Out of the address bar once read: a copied or shared URL does not carry the viewer's entitlement along.
    if (this.client.entitlement) history.replaceState(null, '', location.pathname + location.search);
    // The embedding page may hand one over (or a renewed one) at any time; only the parent window is listened to.
    addEventListener('message', (event) => {
      const entitlement =
        event.source === parent && parent !== window ? entitlementFromMessage(event.data) : undefined;
      if (!entitlement) return;
      this.client.entitlement = entitlement;
      void this.refreshStreams();
    });
  }

  /** The stream list, then a session; tried until both work (an unreachable API delays the wall, never ends it). */
  async start(): Promise<void> {
    const retry = new Backoff();
    for (;;) {
      const response = await this.firstSession().catch(() => undefined);
      if (response) {
        this.client.token = response.token ?? '';
        this.show(response);
        this.scheduleHeartbeat(this.schedule.afterChange(Date.now()));
        void this.refreshStreamsLoop();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, retry.failed()));
    }
  }

  private async firstSession(): Promise<SessionView | undefined> {
    if (!(await this.refreshStreams())) return undefined;
    const { layout, tiles } = initialWall(location.search, this.streams);
    this.layoutPicker.value = layout;
    const answer = await this.client.send('POST', SESSIONS_PATH, { layout, tiles });
    if (answer.ok) return answer.session;
    this.budget.textContent = `error: ${answer.message}`;
    if (answer.status !== 403) return undefined;
    // A private stream in the URL that this viewer may not open (D36): the wall opens without it (only the streams
    // the list offers) instead of retrying a refusal forever.
    const listed = tiles.filter((id) => this.streams.some((s) => s.id === id));
    return this.api('POST', SESSIONS_PATH, { layout, tiles: listed });
  }

  /** The stream list every HEARTBEAT.streamListMs (jittered; the edge caches it), backing off while it fails. */
  private async refreshStreamsLoop(): Promise<void> {
    const retry = new Backoff();
    for (;;) {
      const ok = await this.refreshStreams().catch(() => false);
      if (ok) retry.succeeded();
      const wait = ok ? jittered(HEARTBEAT.streamListMs, HEARTBEAT.jitterRatio, Math.random) : retry.failed();
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async refreshStreams(): Promise<boolean> {
    const streams = await fetchStreams(this.client.entitlement);
    if (streams === 'refused') {
      // Expired or not for this stage: the public streams still play (a blank, retrying page would help nobody).
      this.client.entitlement = undefined;
      this.budget.textContent = 'entitlement refused (expired?): public streams only';
      return this.refreshStreams();
    }
    if (!streams) return false;
    this.streams = streams;
    renderStreamList(this.list, streams, (id) => void this.putStream(id));
    return true;
  }

  private async putStream(streamId: string): Promise<void> {
    const session = this.session;
    if (!session) return;
    await this.update({ tile: { index: tileForPickedStream(session), streamId } });
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

  private update(change: Record<string, unknown>): Promise<void> {
    return this.client.exclusive(async () => {
      if (!this.session) return;
      const response = await this.api('PATCH', `${SESSIONS_PATH}/${this.session.sessionId}`, change).catch(
        () => undefined,
      );
      if (response) {
        this.show(response);
        this.scheduleHeartbeat(this.schedule.afterChange(Date.now()));
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
      tile.place(view.rect, TILE_GAP_PX);
      const name = this.streams.find((s) => s.id === view.streamId)?.name ?? view.streamId ?? '';
      tile.apply(view, name);
      tile.setFocused(view.index === session.focus);
    }
  }

  private scheduleHeartbeat(delayMs: number): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  /** One heartbeat; whatever happens to it (an error answer, a network error), the next one is scheduled. */
  private heartbeat(): Promise<void> {
    return this.client.exclusive(async () => {
      const session = this.session;
      if (!session) return;
      const body = heartbeatBody(this.tiles);
      const response = await this.api('POST', `${SESSIONS_PATH}/${session.sessionId}/heartbeat`, body).catch(
        () => undefined,
      );
      if (response) this.show(response);
      const now = Date.now();
      this.scheduleHeartbeat(
        response
          ? this.schedule.afterAnswer(now, response.heartbeatIntervalMs)
          : this.schedule.afterFailure(now),
      );
    });
  }

  /** A tile that stalled since the last look brings the next heartbeat forward (the allocator may step it down). */
  private watchStalls(): void {
    const stalls = this.tiles.reduce((sum, t) => sum + Number(t.el.dataset.stalls ?? 0), 0);
    const rose = stalls > this.stallsSeen;
    this.stallsSeen = stalls;
    const sooner = rose ? this.schedule.onTrouble(Date.now()) : undefined;
    if (sooner !== undefined) this.scheduleHeartbeat(sooner);
  }

  /** One session call; an expired session (404: the tab slept) is replaced by a new one with the same wall. */
  private async api(method: string, path: string, body?: unknown): Promise<SessionView | undefined> {
    const answer = await this.client.send(method, path, body);
    if (!answer.ok && answer.status === 404 && this.session) {
      const tiles = this.session.tiles.map((t) => t.streamId);
      this.session = undefined;
      this.client.token = '';
      const fresh = await this.api('POST', SESSIONS_PATH, { layout: this.layoutPicker.value, tiles });
      if (fresh) this.client.token = fresh.token ?? '';
      return fresh;
    }
    if (!answer.ok) {
      this.budget.textContent = `error: ${answer.message}`;
      return undefined;
    }
    return answer.session;
  }
}
