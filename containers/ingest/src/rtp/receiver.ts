import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type Logger, silentLogger } from '../../../../core/logger.js';
import { parseRtpHeader } from '../../../../core/rtp/packet.js';
import {
  deriveSessionKeys,
  parseSrtpParams,
  type SessionKeys,
  srtpAuthenticates,
} from '../../../../core/rtp/srtp.js';
import type { RtpPayload } from '../../../../core/streams/schema.js';
import { DEFAULT_TAKEOVER_IDLE_MS, REPLACED_REASON, type SrtConnection } from '../srt/server.js';
import { ElementaryDemuxer } from './elementary.js';
import {
  DEFAULT_REORDER_DELAY_MS,
  DEFAULT_REORDER_PACKETS,
  type FlowKind,
  RTP_CONNECTION_ID_BASE,
  RtpFlow,
  type RtpFlowStats,
} from './flow.js';

export { isRtpConnection, RTP_CONNECTION_ID_BASE } from './flow.js';

import {
  DEFAULT_RTCP_INTERVAL_MS,
  DEFAULT_SILENCE_MS,
  flowKind,
  MAX_HELD_SOURCES,
  MAX_ROC_SCAN,
  MAX_WAITING_PACKETS,
  REFUSED_SOURCE_HOLD_MS,
  ROC_SCAN_BURST,
  ROC_SCANS_PER_S,
  type RtpReceiverCounters,
  type RtpReceiverOptions,
  type RtpStreamEntry,
  SOCKET_RECEIVE_BYTES,
  TICK_MS,
} from './receiver-options.js';
import { allowed, allowList, SourceRateLimit } from './source-gate.js';

export type { RtpReceiverCounters, RtpReceiverOptions, RtpStreamEntry } from './receiver-options.js';

interface StreamState {
  readonly entry: RtpStreamEntry;
  readonly payload: RtpPayload;
  readonly keys: SessionKeys | null;
  readonly rtcpKeys: SessionKeys | null;
  readonly plain: ReturnType<typeof allowList> | null;
}

/**
 * One publish of a stream: its connection (what the session table sees) and its sources, one per medium: the MPEG-TS
 * flow, or the video and audio flows of an elementary stream with their demuxer.
 */
interface Publish {
  readonly conn: SrtConnection;
  readonly flows: Map<FlowKind, RtpFlow>;
  readonly elementary: boolean;
  demuxer: ElementaryDemuxer | null;
  waiting: { kind: FlowKind; packet: Uint8Array }[];
}

interface RtpReceiverEvents {
  connection: [SrtConnection];
  data: [SrtConnection, Buffer];
  close: [SrtConnection, string];
}

/**
 * RTP on one UDP port, for every RTP stream of the registry: MPEG-TS over RTP (RFC 2250), or H.264/HEVC + AAC as two
 * RTP streams (demuxed by elementary.ts). RTP names no stream and carries no credential, so a stream is identified by
 * its SRTP key: the first packet from an unknown source that authenticates against a stream's key binds that source
 * (address, port, SSRC) to the stream, and emits the same connection/data/close events as the SRT listener, so the
 * session table, pipeline, lease, status and commands are the ones SRT uses. Packets that authenticate against
 * nothing are dropped and counted, never decoded.
 */
export class RtpReceiver extends EventEmitter<RtpReceiverEvents> {
  readonly port: number;
  private socket: Socket | null = null;
  private readonly streams = new Map<string, StreamState>();
  private readonly flows = new Map<string, RtpFlow>();
  private readonly publishes = new Map<string, Publish>();
  private readonly byConnection = new Map<number, Publish>();
  private readonly held = new Map<string, number>();
  private readonly trials = new SourceRateLimit();
  private readonly rocScans = new SourceRateLimit(ROC_SCANS_PER_S, ROC_SCAN_BURST, 1);
  /** The ROC each ended source had reached: its next publish (after a silence, a disconnect) is tried at it first. */
  private readonly rocHints = new Map<string, number>();
  private readonly counterValues: RtpReceiverCounters = {
    unauthenticated: 0,
    rateLimited: 0,
    refused: 0,
    malformed: 0,
  };
  private readonly log: Logger;
  private readonly reporterSsrc = randomInt(1, 2 ** 32 - 1);
  private nextId = RTP_CONNECTION_ID_BASE;
  private accepting = true;
  private tick: NodeJS.Timeout | undefined;
  private lastRtcpMs = 0;

  constructor(private readonly o: RtpReceiverOptions) {
    super();
    this.port = o.port;
    this.log = o.logger ?? silentLogger;
  }

  async listen(): Promise<void> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_RECEIVE_BYTES });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, Date.now()));
    socket.on('error', (error) => this.log.warn('RTP socket error', { error: String(error) }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.o.port, this.o.host ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    this.tick = setInterval(() => this.onTick(Date.now()), TICK_MS);
  }

  setStream(streamId: string, entry: RtpStreamEntry): void {
    const master = entry.srtpKey === null ? null : parseSrtpParams(entry.srtpKey);
    const keys = master ? deriveSessionKeys(master) : null;
    const rtcpKeys = master ? deriveSessionKeys(master, true) : null;
    const plain = entry.srtpKey === null && entry.plainSources?.length ? allowList(entry.plainSources) : null;
    const previous = this.streams.get(streamId);
    this.streams.set(streamId, { entry, payload: entry.payload ?? 'mp2t', keys, rtcpKeys, plain });
    // A rotated key (or plain RTP withdrawn) ends the publish made with the old one: the encoder must use the new.
    if (previous && previous.entry.srtpKey !== entry.srtpKey) this.endStream(streamId, 'SRTP key rotated');
  }

  deleteStream(streamId: string): void {
    this.streams.delete(streamId);
    this.endStream(streamId, 'stream deleted');
  }

  /** false: no new source is learned (a draining task); publishing ones keep flowing. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  /** Ends a publish (the session table's, the lease keeper's, a command's); its sources are held off a while. */
  close(connectionId: number, reason: string): boolean {
    const publish = this.byConnection.get(connectionId);
    if (!publish) return false;
    for (const flow of publish.flows.values())
      this.hold(flowKey(flow.address, flow.port, flow.ssrc), Date.now());
    this.endPublish(publish, reason);
    return true;
  }

  /** The publish's figures: its MPEG-TS flow's, or an elementary stream's video flow's (else its audio's). */
  stats(connectionId: number): RtpFlowStats | null {
    const flows = this.byConnection.get(connectionId)?.flows;
    const flow = flows?.get('ts') ?? flows?.get('video') ?? flows?.get('audio');
    return flow?.snapshot() ?? null;
  }

  counters(): Readonly<RtpReceiverCounters> {
    return { ...this.counterValues };
  }

  get flowCount(): number {
    return this.flows.size;
  }

  async stop(): Promise<void> {
    clearInterval(this.tick);
    for (const publish of [...this.byConnection.values()]) this.endPublish(publish, 'ingest stopping');
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo, nowMs: number): void {
    const parsed = parseRtpHeader(msg);
    if (!parsed.ok) {
      this.counterValues.malformed += 1;
      return;
    }
    const ssrc = parsed.header.ssrc;
    const key = flowKey(rinfo.address, rinfo.port, ssrc);
    const flow = this.flows.get(key) ?? this.learn(msg, rinfo, ssrc, parsed.header.payloadType, nowMs);
    if (!flow) return;
    this.deliver(flow, flow.packet(msg, nowMs));
  }

  /** An unknown source: trial over the streams' keys (rate-limited per address), then admission. */
  private learn(
    msg: Buffer,
    rinfo: RemoteInfo,
    ssrc: number,
    payloadType: number,
    nowMs: number,
  ): RtpFlow | null {
    const key = flowKey(rinfo.address, rinfo.port, ssrc);
    const heldUntil = this.held.get(key);
    if (heldUntil !== undefined && heldUntil > nowMs) {
      this.counterValues.refused += 1;
      return null;
    }
    if (!this.trials.take(rinfo.address, nowMs)) {
      this.counterValues.rateLimited += 1;
      return null;
    }
    const found = this.identify(msg, rinfo.address, payloadType, this.rocHints.get(key), nowMs);
    if (found === null) {
      this.counterValues.unauthenticated += 1;
      // Someone sending with a live stream's SSRC and no key: counted on that stream too.
      for (const f of this.flows.values()) if (f.ssrc === ssrc) f.countAuthFailure();
      return null;
    }
    const { streamId, roc } = found;
    const state = this.streams.get(streamId)!;
    const kind = flowKind(state.payload, payloadType);
    if (!this.accepting || kind === null) {
      if (kind === null) this.counterValues.malformed += 1;
      else this.counterValues.refused += 1;
      return null;
    }
    const live = this.publishes.get(streamId)?.flows.get(kind);
    if (live) {
      // One publisher per stream (as SRT): a second source is refused, unless the live one has gone quiet for
      // longer than any live feed does (an encoder restarted on a new port and SSRC), then the new one replaces it.
      if (nowMs - live.lastPacketMs < (this.o.takeoverIdleMs ?? DEFAULT_TAKEOVER_IDLE_MS)) {
        live.refusedSources += 1;
        this.counterValues.refused += 1;
        this.hold(key, nowMs);
        this.log.warn('RTP source refused: the stream is live from another source', {
          streamId,
          peer: `${rinfo.address}:${rinfo.port}`,
          ssrc,
        });
        return null;
      }
      this.endFlow(live, REPLACED_REASON);
    }
    const peer = `${rinfo.address}:${rinfo.port}`;
    const existing = this.publishes.get(streamId);
    const publish = existing ?? this.newPublish(streamId, state, peer);
    const flow = new RtpFlow({
      conn: publish.conn,
      kind,
      ssrc,
      address: rinfo.address,
      port: rinfo.port,
      keys: state.keys,
      rtcpKeys: state.rtcpKeys,
      roc,
      reorderPackets: this.o.reorderPackets ?? DEFAULT_REORDER_PACKETS,
      reorderDelayMs: this.o.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS,
      nowMs,
    });
    publish.flows.set(kind, flow);
    this.flows.set(key, flow);
    this.log.info('RTP source learned', { streamId, peer, ssrc, kind, srtp: state.keys !== null, roc });
    if (!existing) this.emit('connection', publish.conn);
    // The session table may have closed it at once (published elsewhere on this task): nothing to feed then.
    return this.byConnection.has(publish.conn.id) ? flow : null;
  }

  private newPublish(streamId: string, state: StreamState, peer: string): Publish {
    const conn: SrtConnection = { id: this.nextId++, streamId, peer };
    const elementary = state.payload !== 'mp2t';
    const publish: Publish = { conn, flows: new Map(), elementary, demuxer: null, waiting: [] };
    this.publishes.set(streamId, publish);
    this.byConnection.set(conn.id, publish);
    if (state.payload !== 'mp2t') this.startDemuxer(publish, state.payload);
    return publish;
  }

  private startDemuxer(publish: Publish, payload: 'h264' | 'hevc'): void {
    const { conn } = publish;
    ElementaryDemuxer.start({
      streamId: conn.streamId,
      payload,
      ffmpegPath: this.o.ffmpegPath,
      log: this.log,
      onData: (chunk) => {
        if (this.byConnection.get(conn.id) === publish) this.emit('data', conn, chunk);
      },
      onExit: (reason) => this.endPublish(publish, reason),
    }).then(
      (demuxer) => {
        if (this.byConnection.get(conn.id) !== publish) {
          demuxer.stop();
          return;
        }
        publish.demuxer = demuxer;
        for (const w of publish.waiting.splice(0)) demuxer.send(w.kind as 'video' | 'audio', w.packet);
      },
      (error: unknown) => this.endPublish(publish, `RTP demuxer not started: ${String(error)}`),
    );
  }

  /**
   * The stream whose SRTP key authenticates the packet (and the ROC it did at), else a plain-RTP stream that allows
   * its source. A new source starts at ROC 0 (RFC 3711 §3.3.1); one seen before at the ROC it had reached.
   */
  private identify(
    msg: Buffer,
    address: string,
    payloadType: number,
    hint: number | undefined,
    nowMs: number,
  ): { streamId: string; roc: number } | null {
    const first = hint === undefined ? [0] : [hint, hint + 1, 0];
    const found = this.tryKeys(msg, first);
    if (found) return found;
    for (const [streamId, s] of this.streams) {
      const carries = flowKind(s.payload, payloadType) !== null;
      if (s.plain && carries && allowed(s.plain, address)) return { streamId, roc: 0 };
    }
    if (!this.rocScans.take('task', nowMs)) return null;
    return this.tryKeys(
      msg,
      Array.from({ length: MAX_ROC_SCAN }, (_, i) => i + 1),
    );
  }

  private tryKeys(msg: Buffer, rocs: readonly number[]): { streamId: string; roc: number } | null {
    for (const roc of rocs) {
      for (const [streamId, s] of this.streams) {
        if (s.keys && srtpAuthenticates(s.keys, msg, roc)) return { streamId, roc };
      }
    }
    return null;
  }

  private deliver(flow: RtpFlow, packets: readonly Uint8Array[]): void {
    const publish = this.byConnection.get(flow.conn.id);
    if (packets.length === 0 || !publish) return;
    if (!publish.elementary) {
      this.emit('data', flow.conn, Buffer.concat(packets));
      return;
    }
    const kind = flow.kind as 'video' | 'audio';
    if (publish.demuxer) {
      for (const packet of packets) publish.demuxer.send(kind, packet);
      return;
    }
    for (const packet of packets) {
      if (publish.waiting.length < MAX_WAITING_PACKETS) publish.waiting.push({ kind, packet });
    }
  }

  private onTick(nowMs: number): void {
    const silenceMs = this.o.silenceMs ?? DEFAULT_SILENCE_MS;
    for (const flow of [...this.flows.values()]) {
      this.deliver(flow, flow.flush(nowMs));
      if (nowMs - flow.lastPacketMs >= silenceMs)
        this.endFlow(flow, `silence: no RTP for ${silenceMs / 1000} s`);
    }
    const rtcpMs = this.o.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS;
    if (rtcpMs > 0 && nowMs - this.lastRtcpMs >= rtcpMs) {
      this.lastRtcpMs = nowMs;
      for (const flow of this.flows.values()) this.sendReport(flow);
    }
    for (const [key, until] of this.held) if (until <= nowMs) this.held.delete(key);
  }

  /**
   * RFC 3550 §6.4.2 receiver report to the sender's RTCP port (its RTP port + 1, where ffmpeg's rtp:// and srtp://
   * listen), SRTCP-protected for an SRTP sender. Best effort: an encoder that does not read RTCP loses nothing.
   */
  private sendReport(flow: RtpFlow): void {
    const report = flow.receiverReport(this.reporterSsrc, 'mirror-ingest');
    this.socket?.send(report, flow.port + 1, flow.address, () => {});
  }

  private hold(key: string, nowMs: number): void {
    this.held.delete(key);
    this.held.set(key, nowMs + REFUSED_SOURCE_HOLD_MS);
    if (this.held.size > MAX_HELD_SOURCES) this.held.delete(this.held.keys().next().value!);
  }

  private endStream(streamId: string, reason: string): void {
    const publish = this.publishes.get(streamId);
    if (publish) this.endPublish(publish, reason);
  }

  /** One source ends (silence, replaced); the publish with it when it was the last. */
  private endFlow(flow: RtpFlow, reason: string): void {
    const publish = this.byConnection.get(flow.conn.id);
    if (!publish || publish.flows.get(flow.kind) !== flow) return;
    this.forgetFlow(publish, flow, reason);
    if (publish.flows.size === 0) this.endPublish(publish, reason);
  }

  private forgetFlow(publish: Publish, flow: RtpFlow, reason: string): void {
    this.deliver(flow, flow.drain());
    publish.flows.delete(flow.kind);
    const key = flowKey(flow.address, flow.port, flow.ssrc);
    this.flows.delete(key);
    this.rocHints.delete(key);
    this.rocHints.set(key, flow.roc);
    if (this.rocHints.size > MAX_HELD_SOURCES) this.rocHints.delete(this.rocHints.keys().next().value!);
    this.log.info('RTP source ended', {
      streamId: flow.conn.streamId,
      reason,
      kind: flow.kind,
      ...flow.snapshot(),
    });
  }

  private endPublish(publish: Publish, reason: string): void {
    if (this.byConnection.get(publish.conn.id) !== publish) return;
    for (const flow of [...publish.flows.values()]) this.forgetFlow(publish, flow, reason);
    this.byConnection.delete(publish.conn.id);
    if (this.publishes.get(publish.conn.streamId) === publish) this.publishes.delete(publish.conn.streamId);
    publish.demuxer?.stop();
    publish.waiting = [];
    this.emit('close', publish.conn, reason);
  }
}

const flowKey = (address: string, port: number, ssrc: number): string => `${address}:${port}/${ssrc}`;
