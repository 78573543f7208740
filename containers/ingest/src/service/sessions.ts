import { newBroadcastId } from '../../../../core/contracts/names.js';
import type { Logger } from '../../../../core/logger.js';
import type { EndOptions } from '../../../../core/media/rendition-sink.js';
import type { BroadcastLog } from '../../../../core/streams/broadcasts.js';
import type { LeaseResult, Leases } from '../lease.js';
import { REPLACED_REASON, type SrtConnection } from '../srt/server.js';
import type { StreamPipeline } from '../transcode/pipeline.js';

/** What may queue while the lease is taken (normally a few ms of input). */
export const MAX_PENDING_BEFORE_LEASE_BYTES = 8 * 1024 * 1024;

/** The part of a stream pipeline a session drives (a fake in unit tests, a StreamPipeline in the service). */
export type SessionPipeline = Pick<StreamPipeline, 'write' | 'endInput' | 'reconnect' | 'stop' | 'status'>;

/** Closes an SRT connection with a reason (the SrtListener). */
export interface ConnectionCloser {
  close(connectionId: number, reason: string): unknown;
}

/** One stream published to this task: it outlives its connection by the reconnect grace. */
export interface Session<P extends SessionPipeline = StreamPipeline> {
  readonly streamId: string;
  conn: SrtConnection | null;
  readonly pipeline: P;
  /** Data that arrived while the lease was being taken (bounded; beyond it, dropped); null once admitted. */
  pending: Buffer[] | null;
  pendingBytes: number;
  graceTimer: NodeJS.Timeout | null;
  readonly connectedAt: number;
  fatal: string | null;
  /** The admitted connection's broadcast (decision D16); undefined before admission and after its close. */
  broadcast?: string;
}

export interface SessionsOptions<P extends SessionPipeline> {
  readonly connections: ConnectionCloser;
  readonly leases: Pick<Leases, 'acquire' | 'release'>;
  /**
   * A new session's pipeline; `onFatal` is how it reports that the stream cannot continue, `broadcast` names the
   * media of its first connection (a reconnect passes the next one to pipeline.reconnect()).
   */
  readonly openPipeline: (streamId: string, onFatal: (reason: string) => void, broadcast: string) => P;
  /** Where admitted broadcasts are recorded (best effort: a failure is logged, the publish goes on). */
  readonly broadcasts?: BroadcastLog;
  /** After an encoder disconnects, its session (and renditions) stay this long for a reconnect. */
  readonly reconnectGraceMs: number;
  readonly log: Logger;
  /** A publishing stream stopped unexpectedly (not by a drain, not after a failure already reported). */
  readonly onStreamDown?: (streamId: string, reason: string) => void;
  /** The session's pipeline failed (its connection is closed already): report it at once. */
  readonly onFailed: (session: Session<P>) => void;
  /** The session ended for good: clear what was reported for it. */
  readonly onEnded: (streamId: string) => Promise<unknown>;
}

/**
 * The session table and admission: a connection takes the stream's publisher lease, then feeds the pipeline
 * (what arrives meanwhile is held, bounded); a disconnect keeps the session for a reconnect grace, and a
 * reconnect within it continues the same pipeline with a discontinuity.
 */
export class Sessions<P extends SessionPipeline = StreamPipeline> {
  private readonly table = new Map<string, Session<P>>();
  private drainingNow = false;

  constructor(private readonly options: SessionsOptions<P>) {}

  get(streamId: string): Session<P> | undefined {
    return this.table.get(streamId);
  }

  /** Live view: sessions added or ended while iterating are seen (or skipped) as they happen. */
  values(): IterableIterator<Session<P>> {
    return this.table.values();
  }

  /** Sessions whose encoder is connected now. */
  publishing(): Session<P>[] {
    return [...this.table.values()].filter((s) => s.conn);
  }

  get draining(): boolean {
    return this.drainingNow;
  }

  /** From now on a disconnect ends nothing by itself (stop() ends every session) and is not a stream down. */
  beginDrain(): void {
    this.drainingNow = true;
  }

  /** Closes the stream's publishing connection, if any; false when nobody publishes it here. */
  disconnect(streamId: string, reason: string): boolean {
    const conn = this.table.get(streamId)?.conn;
    if (!conn) return false;
    this.options.connections.close(conn.id, reason);
    return true;
  }

  /** The SRT listener accepted a publisher. */
  connected(conn: SrtConnection): void {
    const existing = this.table.get(conn.streamId);
    if (existing?.conn) {
      // The native table lets one publisher per stream through; a second here means a race it settled late.
      this.options.connections.close(conn.id, 'already publishing on this task');
      return;
    }
    // Every accepted connection is a broadcast of its own: fresh media names, whatever Redis remembers.
    const broadcast = newBroadcastId(Date.now());
    let session: Session<P>;
    if (existing) {
      session = existing;
      if (session.graceTimer) clearTimeout(session.graceTimer);
      session.graceTimer = null;
      session.conn = conn;
      session.pending = [];
      session.pendingBytes = 0;
      session.fatal = null;
    } else {
      session = this.newSession(conn, broadcast);
      this.table.set(conn.streamId, session);
    }
    this.options.log.info('SRT publisher connected', {
      streamId: conn.streamId,
      peer: conn.peer,
      reconnect: Boolean(existing),
    });
    void this.admit(session, conn, Boolean(existing), broadcast);
  }

  /** MPEG-TS bytes from a publisher: to the pipeline once admitted, held (bounded) until then. */
  received(conn: SrtConnection, data: Buffer): void {
    const session = this.table.get(conn.streamId);
    if (!session || session.conn?.id !== conn.id) return;
    if (!session.pending) {
      session.pipeline.write(data);
    } else if (session.pendingBytes + data.length <= MAX_PENDING_BEFORE_LEASE_BYTES) {
      session.pending.push(data);
      session.pendingBytes += data.length;
    }
  }

  /** A publisher's connection closed: its input ends, its lease goes, and the reconnect grace starts. */
  closed(conn: SrtConnection, reason: string): void {
    const session = this.table.get(conn.streamId);
    if (!session || session.conn?.id !== conn.id) return;
    this.options.log.info('SRT publisher disconnected', { streamId: conn.streamId, reason });
    session.conn = null;
    session.pending = null;
    session.pipeline.endInput();
    this.broadcastEnded(session);
    if (!this.drainingNow && !session.fatal) this.options.onStreamDown?.(conn.streamId, reason);
    // Draining: the lease goes in end(), once the renditions are finished, so the task the encoder moves to
    // resumes from the final live state (service/drain.ts ends the session right after this close).
    if (this.drainingNow) return;
    // Replaced by a takeover (srt/server.ts): the new connection of the same encoder follows at once (the listener
    // emits its accept right after this close) and renews the lease we still hold; releasing it first would let
    // another task take the stream in between. If it never came, the grace's end() releases the lease.
    if (reason !== REPLACED_REASON) this.options.leases.release(conn.streamId).catch(() => {});
    session.graceTimer = setTimeout(() => {
      void this.end(session);
    }, this.options.reconnectGraceMs);
  }

  /**
   * Ends a session: its connection, its pipeline (open segments finish), its lease and its status. `handover` when
   * the task is draining or stopping and the encoder moves to another task: the playlists stay open for it.
   */
  async end(session: Session<P>, options: EndOptions = {}): Promise<void> {
    if (session.conn) this.options.connections.close(session.conn.id, 'stream ended');
    this.broadcastEnded(session);
    if (this.table.get(session.streamId) === session) this.table.delete(session.streamId);
    if (session.graceTimer) clearTimeout(session.graceTimer);
    await session.pipeline.stop(options);
    await this.options.leases.release(session.streamId).catch(() => {});
    await this.options.onEnded(session.streamId).catch(() => {});
  }

  /** Records the end of the session's admitted broadcast, once. */
  private broadcastEnded(session: Session<P>): void {
    const id = session.broadcast;
    if (id === undefined) return;
    session.broadcast = undefined;
    this.options.broadcasts?.ended(session.streamId, id, new Date().toISOString()).catch((error: unknown) => {
      this.options.log.warn('broadcast end not recorded', {
        streamId: session.streamId,
        broadcast: id,
        error,
      });
    });
  }

  private newSession(conn: SrtConnection, broadcast: string): Session<P> {
    const streamId = conn.streamId;
    const session: Session<P> = {
      streamId,
      conn,
      pending: [],
      pendingBytes: 0,
      graceTimer: null,
      connectedAt: Date.now(),
      fatal: null,
      pipeline: this.options.openPipeline(
        streamId,
        (reason) => {
          session.fatal = reason;
          this.options.onStreamDown?.(streamId, reason);
          if (session.conn) this.options.connections.close(session.conn.id, reason);
          this.options.onFailed(session);
        },
        broadcast,
      ),
    };
    return session;
  }

  /** Takes the lease, then hands what arrived meanwhile to the pipeline; a newer connection wins any race. */
  private async admit(
    session: Session<P>,
    conn: SrtConnection,
    reconnect: boolean,
    broadcast: string,
  ): Promise<void> {
    let lease: LeaseResult;
    try {
      lease = await this.options.leases.acquire(session.streamId);
    } catch (error) {
      // Redis unreachable. An encoder coming back to the session it had here (within the reconnect grace) held
      // the lease until a moment ago, and nobody can take it through a Redis we cannot reach either: continue,
      // and let the lease keeper settle it when Redis answers again. A new stream waits for Redis (refused).
      lease = reconnect ? { ok: true } : { ok: false, holder: `unknown (Redis: ${String(error)})` };
      if (reconnect) {
        this.options.log.warn('publisher readmitted without its lease: Redis unreachable', {
          streamId: session.streamId,
          error: String(error),
        });
      }
    }
    if (session.conn !== conn) return;
    if (!lease.ok) {
      this.options.log.warn('SRT publisher refused: the stream is published on another task', {
        streamId: session.streamId,
        holder: lease.holder,
      });
      this.options.connections.close(conn.id, `lease held by ${lease.holder}`);
      return;
    }
    session.broadcast = broadcast;
    const startedAt = new Date().toISOString();
    this.options.broadcasts
      ?.started(session.streamId, { id: broadcast, startedAt })
      .catch((error: unknown) => {
        this.options.log.warn('broadcast start not recorded', {
          streamId: session.streamId,
          broadcast,
          error,
        });
      });
    if (reconnect) await session.pipeline.reconnect(broadcast);
    if (session.conn !== conn) return;
    const pending = session.pending ?? [];
    session.pending = null;
    for (const chunk of pending) session.pipeline.write(chunk);
  }
}
