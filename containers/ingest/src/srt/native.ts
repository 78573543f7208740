import { createRequire } from 'node:module';

/** Reject codes from libsrt's access_control.h, as set by the listen callback. */
export const REJECT = {
  /** Malformed streamid. */
  BAD_REQUEST: 1400,
  /** Publish key does not match the stream. */
  UNAUTHORIZED: 1401,
  /** Task at capacity, or the caller's address is over its handshake rate (the reason text says which). */
  OVERLOAD: 1402,
  /** Stream disabled. */
  FORBIDDEN: 1403,
  /** Unknown stream or publish key. */
  NOT_FOUND: 1404,
  /** m= other than publish. */
  BAD_MODE: 1405,
  /** Someone already publishes this stream. */
  CONFLICT: 1409,
  /** Task draining. */
  DOWN: 1503,
} as const;

/** libsrt's own handshake rejections (SRT_REJ_*), seen by the caller. */
export const SRT_REJ = { BADSECRET: 10, UNSECURE: 11 } as const;

export interface NativeStreamEntry {
  /** SHA-256 hex of the publish key (core/streams/secrets.ts hashPublishKey): the table never holds a key (D38). */
  publishKeyHash: string;
  /** The plain passphrase: libsrt derives the stream's AES key from it, so it must be opened before it gets here. */
  passphrase: string | null;
  keyLength: 16 | 24 | 32;
  latencyMs?: number;
  allowed?: boolean;
}

export interface NativeEvent {
  type: 'accept' | 'data' | 'close' | 'reject';
  conn: number;
  data?: Buffer;
  streamId?: string;
  peer?: string;
  code?: number;
  reason?: string;
}

/** Receiver statistics from srt_bstats plus the native queue counters. */
export interface SrtStats {
  rttMs: number;
  recvRateMbps: number;
  packetsReceived: number;
  bytesReceived: number;
  packetsLost: number;
  packetsRetransmitted: number;
  packetsDropped: number;
  packetsBelated: number;
  bufferBytes: number;
  bufferMs: number;
  bufferAvailableBytes: number;
  queueDroppedBytes: number;
  queueDroppedChunks: number;
  queuePendingBytes: number;
}

/** The queue towards JavaScript and the handshake rate-limit table (SrtServer.queueStats). */
export interface NativeQueueStats {
  queuedEvents: number;
  queuedDataBytes: number;
  /** Most data bytes ever queued at once: never above maxQueuedBytes. */
  peakDataBytes: number;
  queuedRejects: number;
  droppedDataBytes: number;
  droppedDataChunks: number;
  /** Sources in the rate-limit table: never above handshakeSources. */
  handshakeSources: number;
}

export interface NativeServer {
  listen(): void;
  setStream(id: string, entry: NativeStreamEntry): void;
  deleteStream(id: string): void;
  setAccepting(accepting: boolean): void;
  setMaxConnections(n: number): void;
  closeConnection(conn: number, reason?: string): boolean;
  stats(conn: number): SrtStats | null;
  queueStats(): NativeQueueStats;
  /** Rejects counted but not queued (reject queue full) since the last call, by reject code. */
  takeRejectsNotDelivered(): Record<string, number>;
  stop(): void;
}

export interface NativeServerOptions {
  port: number;
  host?: string;
  latencyMs?: number;
  maxConnections?: number;
  /** Data bytes one connection may have queued towards JavaScript; over it, its chunks are dropped and counted. */
  maxPendingBytes?: number;
  /** Data bytes all connections together may have queued; over it, chunks are dropped and counted. */
  maxQueuedBytes?: number;
  /** Reject events waiting for JavaScript; over it, rejects are only counted (takeRejectsNotDelivered). */
  maxQueuedRejects?: number;
  /** Handshakes per second per source address (token bucket); 0 turns the limit off. */
  handshakeRatePerSec?: number;
  /** Handshakes a quiet source may make at once. */
  handshakeBurst?: number;
  /** Sources the rate-limit table holds (least recently seen evicted first). */
  handshakeSources?: number;
  /**
   * An authenticated caller of a stream replaces its publisher when that one has delivered no data for this long
   * beyond the stream's SRT latency (closed with "replaced by a new connection from the same encoder", before the new
   * one's accept); 0 turns it off.
   */
  takeoverIdleMs?: number;
}

export interface ProbeOptions {
  host: string;
  /** Local address to send from (another 127.x address is another source to the listener). */
  bindHost?: string;
  port: number;
  streamId: string;
  passphrase?: string;
  keyLength?: number;
  holdMs?: number;
  timeoutMs?: number;
  /** While holding, send random bytes (not MPEG-TS). */
  garbage?: boolean;
}

export interface ProbeResult {
  connected: boolean;
  rejectReason: number;
  rejectReasonText: string;
}

interface NativeModule {
  SrtServer: new (options: NativeServerOptions, onEvent: (event: NativeEvent) => void) => NativeServer;
  probe(options: ProbeOptions): Promise<ProbeResult>;
  /** Test hook: the listener's rate limiter over scripted attempts on a fake clock. */
  testHandshakeLimiter(
    options: { ratePerSec: number; burst: number; maxSources: number },
    attempts: readonly { source: string; atMs: number }[],
  ): { allowed: boolean[]; sources: number };
  parseStreamId(raw: string): {
    ok: boolean;
    streamId: string;
    publishKey: string;
    mode: string;
    reason: string;
  };
}

let loaded: NativeModule | undefined;

/** Loads the libsrt addon built by `npm run build:native`, with the fix in the error when it is missing. */
export function loadNative(): NativeModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const candidates = [
    process.env.MIRROR_SRT_ADDON,
    '../../native/build/Release/mirror_srt.node',
    '../native/build/Release/mirror_srt.node',
  ].filter((p): p is string => Boolean(p));
  const errors: string[] = [];
  for (const candidate of candidates) {
    try {
      loaded = require(candidate) as NativeModule;
      return loaded;
    } catch (error) {
      errors.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `SRT addon not loadable (${errors.join('; ')}). Fix: apt-get install -y libsrt-openssl-dev pkg-config && npm run build:native`,
  );
}
