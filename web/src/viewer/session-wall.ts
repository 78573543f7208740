// The wall as the session API has it: the session's answers placed as tiles, changes (layout, focus, a
// stream put on a tile) sent as updates, and heartbeats answered with each tile's rendition.
import { SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { heartbeatBody } from './heartbeat.js';
import { initialWall, type PublicStream, type SessionView, tileForPickedStream } from './model.js';
import { SessionClient } from './session-client.js';
import { fetchPublicStreams, renderStreamList } from './stream-list.js';
import { Tile } from './tile.js';

/** Pixels between neighbouring tiles. */
const TILE_GAP_PX = 6;
/** Soon after a change: tells the allocator the tile sizes at once, so focus can get more than the tile rung. */
const FIRST_HEARTBEAT_MS = 300;

export class Viewer {
  private session: SessionView | undefined;
  private readonly client = new SessionClient();
  private tiles: Tile[] = [];
  private streams: PublicStream[] = [];
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;

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
      if (this.session) this.client.end(this.session.sessionId);
    });
  }

  async start(): Promise<void> {
    await this.refreshStreams();
    const { layout, tiles } = initialWall(location.search, this.streams);
    this.layoutPicker.value = layout;
    const response = await this.api('POST', SESSIONS_PATH, { layout, tiles });
    if (!response) return;
    this.client.token = response.token ?? '';
    this.show(response);
    this.scheduleHeartbeat(FIRST_HEARTBEAT_MS);
  }

  private async refreshStreams(): Promise<void> {
    const streams = await fetchPublicStreams();
    if (!streams) return;
    this.streams = streams;
    renderStreamList(this.list, streams, (id) => void this.putStream(id));
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
      const response = await this.api('PATCH', `${SESSIONS_PATH}/${this.session.sessionId}`, change);
      if (response) {
        this.show(response);
        this.scheduleHeartbeat(FIRST_HEARTBEAT_MS);
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

  private heartbeat(): Promise<void> {
    return this.client.exclusive(async () => {
      const session = this.session;
      if (!session) return;
      const body = heartbeatBody(this.tiles);
      const response = await this.api('POST', `${SESSIONS_PATH}/${session.sessionId}/heartbeat`, body);
      if (response) this.show(response);
      this.scheduleHeartbeat(this.session?.heartbeatIntervalMs ?? 5000);
    });
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
