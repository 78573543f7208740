import { EventEmitter } from 'node:events';
import { SRT_EVENT_QUEUE_MIB } from '../../../../core/contracts/ingest-memory.js';
import { type Logger, silentLogger } from '../../../../core/logger.js';
import {
  loadNative,
  type NativeEvent,
  type NativeQueueStats,
  type NativeServer,
  type NativeServerOptions,
  type NativeStreamEntry,
  type SrtStats,
} from './native.js';
import { RejectSummary } from './reject-summary.js';

export type { NativeQueueStats, NativeStreamEntry as StreamAdmission, SrtStats } from './native.js';

const MIB = 1024 * 1024;
/** Receive latency libsrt uses unless a stream asks for another: libsrt's default 120 ms, about 4x a regional RTT. */
export const DEFAULT_SRT_LATENCY_MS = 120;
/**
 * Bytes a connection may have queued from the SRT thread to JavaScript before its chunks are dropped: about 2.5 s
 * of a 50 Mbps feed while the event loop is busy; counted per stream in the container's memory budget.
 */
export const DEFAULT_MAX_PENDING_BYTES = SRT_EVENT_QUEUE_MIB * MIB;
/** Bytes all connections together may have queued towards JavaScript (an event loop stall costs at most this). */
export const DEFAULT_MAX_QUEUED_BYTES = 64 * MIB;
/** Reject events waiting for JavaScript; beyond it, rejects are only counted. */
export const DEFAULT_MAX_QUEUED_REJECTS = 256;
/**
 * Handshakes per second and burst per source address. An encoder reconnecting after a drop makes one handshake
 * (a few more with a wrong passphrase, which libsrt refuses after the callback): 20 at once and 10 per second never
 * slow a real encoder, and hold a flooding source to 10 refusals per second.
 */
export const DEFAULT_HANDSHAKE_RATE_PER_S = 10;
export const DEFAULT_HANDSHAKE_BURST = 20;
/** Sources in the rate-limit table; least recently seen evicted first (a bucket quiet that long is full anyway). */
export const DEFAULT_HANDSHAKE_SOURCES = 4096;
/**
 * A caller of a stream that is already published here is admitted, replacing the publisher, when that publisher has
 * delivered no data for this long beyond its stream's SRT latency (and the caller passes the same admission: key,
 * passphrase). An encoder killed or restarted (OBS, a hardware encoder, ffmpeg in a loop) otherwise waits for
 * libsrt's peer idle timeout (5 s) plus its own retry backoff. A live feed delivers data every few ms (a 64 kbit/s
 * audio-only feed one 1316-byte packet per 165 ms), and TSBPD holds delivery back by at most the latency (120 ms by
 * default) before it drops rather than waits, so a live publisher's silences stay under 165 ms + the latency: 380 ms
 * beyond it (500 ms at the default latency) is not a live publisher, and a second encoder can never take a stream
 * that is flowing. At 1 s (before), an encoder that retries within a second (ffmpeg in a loop: 0.5 s) was refused
 * once and came back after its next backoff: 4.1 s from kill to a new part in the fault suite. Keepalives do not
 * count (they carry no media): a connected encoder that sends nothing can be replaced by one that holds the same key.
 */
export const DEFAULT_TAKEOVER_IDLE_MS = 380;
/** The close reason of a publisher replaced by a takeover (the native listener's literal). */
export const REPLACED_REASON = 'replaced by a new connection from the same encoder';
/** One summary line of rejected handshakes per this interval, only when there were any. */
export const DEFAULT_REJECT_SUMMARY_INTERVAL_MS = 10_000;

/** The native listener's options (limits documented there), plus where rejected-handshake summaries go. */
export interface SrtListenerOptions extends NativeServerOptions {
  /** Receives the summaries of rejected handshakes (one line per interval, never one per reject). */
  logger?: Logger;
  rejectSummaryIntervalMs?: number;
}

export interface SrtConnection {
  readonly id: number;
  readonly streamId: string;
  readonly peer: string;
}

export interface SrtRejection {
  readonly code: number;
  readonly reason: string;
  /** The resource name when the streamid named one; never the publish key. */
  readonly streamId: string;
  readonly peer: string;
}

interface SrtListenerEvents {
  connection: [SrtConnection];
  data: [SrtConnection, Buffer];
  close: [SrtConnection, string];
  reject: [SrtRejection];
}

/**
 * Many SRT callers on one UDP port. Admission (per-source handshake rate, streamid, publish key, passphrase, one
 * publisher per stream unless it has been idle for takeoverIdleMs, capacity) is decided natively from the table fed by setStream(); data arrives as Buffers
 * off the event loop through a bounded queue. Rejected handshakes are emitted one by one ('reject') and logged as
 * one summary per interval.
 */
export class SrtListener extends EventEmitter<SrtListenerEvents> {
  readonly port: number;
  private readonly native: NativeServer;
  private readonly connections = new Map<number, SrtConnection>();
  private readonly log: Logger;
  private readonly rejects = new RejectSummary();
  private readonly summaryIntervalMs: number;
  private summaryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: SrtListenerOptions) {
    super();
    this.port = options.port;
    this.log = options.logger ?? silentLogger;
    this.summaryIntervalMs = options.rejectSummaryIntervalMs ?? DEFAULT_REJECT_SUMMARY_INTERVAL_MS;
    const { SrtServer } = loadNative();
    this.native = new SrtServer(
      {
        port: options.port,
        host: options.host ?? '0.0.0.0',
        latencyMs: options.latencyMs ?? DEFAULT_SRT_LATENCY_MS,
        maxConnections: options.maxConnections ?? 32,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
        maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
        maxQueuedRejects: options.maxQueuedRejects ?? DEFAULT_MAX_QUEUED_REJECTS,
        handshakeRatePerSec: options.handshakeRatePerSec ?? DEFAULT_HANDSHAKE_RATE_PER_S,
        handshakeBurst: options.handshakeBurst ?? DEFAULT_HANDSHAKE_BURST,
        handshakeSources: options.handshakeSources ?? DEFAULT_HANDSHAKE_SOURCES,
        takeoverIdleMs: options.takeoverIdleMs ?? DEFAULT_TAKEOVER_IDLE_MS,
      },
      (event) => this.onNative(event),
    );
  }

  listen(): void {
    this.native.listen();
    this.summaryTimer = setInterval(() => this.logRejects(), this.summaryIntervalMs);
    this.summaryTimer.unref();
  }

  setStream(streamId: string, entry: NativeStreamEntry): void {
    this.native.setStream(streamId, entry);
  }

  deleteStream(streamId: string): void {
    this.native.deleteStream(streamId);
  }

  /** false: every new caller is refused (SRT_REJX_DOWN) while existing ones keep flowing. */
  setAccepting(accepting: boolean): void {
    this.native.setAccepting(accepting);
  }

  setMaxConnections(n: number): void {
    this.native.setMaxConnections(n);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  close(connectionId: number, reason: string): boolean {
    return this.native.closeConnection(connectionId, reason);
  }

  stats(connectionId: number): SrtStats | null {
    return this.native.stats(connectionId);
  }

  /** The native queue towards JavaScript and the rate-limit table. */
  queueStats(): NativeQueueStats {
    return this.native.queueStats();
  }

  /** Closes every connection (emitting close) and the listener. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.summaryTimer);
    this.native.stop();
    // Close events queued by stop() are delivered on the next turns of the event loop.
    await new Promise((r) => setTimeout(r, 20));
    this.logRejects();
  }

  /** One line for the interval's rejected handshakes, if there were any. */
  private logRejects(): void {
    this.rejects.recordNotDelivered(this.native.takeRejectsNotDelivered());
    const summary = this.rejects.take();
    if (summary === undefined) return;
    this.log.warn('SRT callers rejected', { intervalS: this.summaryIntervalMs / 1000, ...summary });
  }

  private onNative(event: NativeEvent): void {
    switch (event.type) {
      case 'accept': {
        const conn: SrtConnection = {
          id: event.conn,
          streamId: event.streamId ?? '',
          peer: event.peer ?? '',
        };
        this.connections.set(conn.id, conn);
        this.emit('connection', conn);
        break;
      }
      case 'data': {
        const conn = this.connections.get(event.conn);
        if (conn && event.data) this.emit('data', conn, event.data);
        break;
      }
      case 'close': {
        const conn = this.connections.get(event.conn);
        if (!conn) break;
        this.connections.delete(event.conn);
        this.emit('close', conn, event.reason ?? '');
        break;
      }
      case 'reject': {
        const rejection: SrtRejection = {
          code: event.code ?? 0,
          reason: event.reason ?? '',
          streamId: event.streamId ?? '',
          peer: event.peer ?? '',
        };
        this.rejects.record(rejection);
        this.emit('reject', rejection);
        break;
      }
    }
  }
}
