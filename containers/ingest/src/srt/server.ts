import { EventEmitter } from 'node:events';
import {
  loadNative,
  type NativeEvent,
  type NativeServer,
  type NativeStreamEntry,
  type SrtStats,
} from './native.js';

export type { NativeStreamEntry as StreamAdmission, SrtStats } from './native.js';

/** Receive latency libsrt uses unless a stream asks for another: libsrt's default 120 ms, about 4x a regional RTT. */
export const DEFAULT_SRT_LATENCY_MS = 120;
/** Bytes a connection may have in flight from the SRT thread to JavaScript before chunks are dropped. */
export const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface SrtListenerOptions {
  port: number;
  host?: string;
  latencyMs?: number;
  maxConnections?: number;
  maxPendingBytes?: number;
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
 * Many SRT callers on one UDP port. Admission (streamid, publish key, passphrase, one publisher per stream,
 * capacity) is decided natively from the table fed by setStream(); data arrives as Buffers off the event loop.
 */
export class SrtListener extends EventEmitter<SrtListenerEvents> {
  readonly port: number;
  private readonly native: NativeServer;
  private readonly connections = new Map<number, SrtConnection>();
  private stopped = false;

  constructor(options: SrtListenerOptions) {
    super();
    this.port = options.port;
    const { SrtServer } = loadNative();
    this.native = new SrtServer(
      {
        port: options.port,
        host: options.host ?? '0.0.0.0',
        latencyMs: options.latencyMs ?? DEFAULT_SRT_LATENCY_MS,
        maxConnections: options.maxConnections ?? 32,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      },
      (event) => this.onNative(event),
    );
  }

  listen(): void {
    this.native.listen();
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

  /** Closes every connection (emitting close) and the listener. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.native.stop();
    // Close events queued by stop() are delivered on the next turns of the event loop.
    await new Promise((r) => setTimeout(r, 20));
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
      case 'reject':
        this.emit('reject', {
          code: event.code ?? 0,
          reason: event.reason ?? '',
          streamId: event.streamId ?? '',
          peer: event.peer ?? '',
        });
        break;
    }
  }
}
