import { mp2tPayload } from '../../../../core/rtp/mp2t.js';
import { MP2T_CLOCK_HZ, parseRtpHeader, payloadOf } from '../../../../core/rtp/packet.js';
import { ReorderBuffer } from '../../../../core/rtp/reorder.js';
import { buildReceiverReport } from '../../../../core/rtp/rtcp.js';
import { protectRtcp, type SessionKeys, SrtpReceiveContext } from '../../../../core/rtp/srtp.js';
import { RtpReceptionStats } from '../../../../core/rtp/stats.js';
import type { SrtConnection } from '../srt/server.js';

/**
 * RTP connection ids start here, far above libsrt's socket ids (below 2^30), so one id space serves the session
 * table, the lease keeper and the reporter for both protocols.
 */
export const RTP_CONNECTION_ID_BASE = 2 ** 40;
export const isRtpConnection = (connectionId: number): boolean => connectionId >= RTP_CONNECTION_ID_BASE;

/**
 * Packets a stream may hold for reordering: about 0.3 s of a 10 Mbit/s MPEG-TS feed, 256 x 1.4 KB = 360 KB per
 * stream at most, counted beside the SRT event queue in the memory plan.
 */
export const DEFAULT_REORDER_PACKETS = 256;
/**
 * How long a gap is waited for before its packets are given up: RTP has no retransmission, so a packet later than
 * this is lost anyway; 100 ms covers the reordering of a multi-path or Wi-Fi hop and adds delay only behind a gap.
 */
export const DEFAULT_REORDER_DELAY_MS = 100;

/** What the status's `rtp` block and the metrics read of a publishing RTP source. */
export interface RtpFlowStats {
  readonly ssrc: number;
  readonly srtp: boolean;
  readonly packetsReceived: number;
  /** RFC 3550 cumulative number of packets lost. */
  readonly lost: number;
  /** RFC 3550 fraction lost over the last report interval, 0..1. */
  readonly fractionLost: number;
  /** RFC 3550 interarrival jitter, ms. */
  readonly jitterMs: number;
  readonly reordered: number;
  /** Packets that came after the reorder buffer gave their place up (dropped). */
  readonly late: number;
  /** Packets with the stream's SSRC that did not authenticate (dropped, never decoded). */
  readonly authFailures: number;
  readonly replays: number;
  /** Payloads that were not whole TS packets (dropped). */
  readonly malformed: number;
  /** Other sources that authenticated for this stream while it was live (refused). */
  readonly refusedSources: number;
}

/** `ts`: MPEG-TS over RTP (the payload goes on); `video`/`audio`: an elementary medium (the whole clear packet). */
export type FlowKind = 'ts' | 'video' | 'audio';

export interface RtpFlowOptions {
  readonly conn: SrtConnection;
  readonly kind: FlowKind;
  readonly ssrc: number;
  readonly address: string;
  readonly port: number;
  /** SRTP session keys; null = plain RTP (the operator allowed it for this source). */
  readonly keys: SessionKeys | null;
  readonly rtcpKeys: SessionKeys | null;
  /** SRTP rollover counter of the first packet (what the trial found). */
  readonly roc: number;
  readonly reorderPackets: number;
  readonly reorderDelayMs: number;
  readonly nowMs: number;
}

/**
 * One publishing RTP source: its SRTP context, RFC 3550 statistics, reorder buffer and counters. It turns datagrams
 * into MPEG-TS bytes in sequence order; the receiver owns the socket and the timers.
 */
export class RtpFlow {
  readonly conn: SrtConnection;
  readonly kind: FlowKind;
  readonly ssrc: number;
  readonly address: string;
  readonly port: number;
  lastPacketMs: number;
  refusedSources = 0;
  private readonly srtp: SrtpReceiveContext | null;
  private readonly stats = new RtpReceptionStats(MP2T_CLOCK_HZ);
  private readonly reorder: ReorderBuffer<Uint8Array>;
  private authFailures = 0;
  private replays = 0;
  private malformed = 0;
  private rtcpIndex = 0;

  constructor(private readonly o: RtpFlowOptions) {
    this.conn = o.conn;
    this.kind = o.kind;
    this.ssrc = o.ssrc;
    this.address = o.address;
    this.port = o.port;
    this.lastPacketMs = o.nowMs;
    this.srtp = o.keys ? new SrtpReceiveContext(o.keys, o.roc) : null;
    this.reorder = new ReorderBuffer({ maxPackets: o.reorderPackets, maxDelayMs: o.reorderDelayMs });
  }

  /**
   * One datagram of this flow: what is now in order (the TS payloads, or the clear RTP packets of an elementary
   * medium); empty while a gap is waited for, or when the datagram was dropped.
   */
  packet(datagram: Uint8Array, nowMs: number): Uint8Array[] {
    let clear: Uint8Array = datagram;
    if (this.srtp) {
      const out = this.srtp.unprotect(datagram);
      if (!out.ok) {
        if (out.reason === 'replay') this.replays += 1;
        else this.authFailures += 1;
        return this.reorder.flush(nowMs);
      }
      clear = out.packet;
    }
    const parsed = parseRtpHeader(clear);
    const payload = parsed.ok ? payloadOf(clear, parsed.header) : null;
    const ts = payload && this.kind === 'ts' ? mp2tPayload(payload) : null;
    if (!parsed.ok || !payload || (this.kind === 'ts' && !ts?.ok)) {
      this.malformed += 1;
      return this.reorder.flush(nowMs);
    }
    this.lastPacketMs = nowMs;
    const extended = this.stats.packet(parsed.header.sequence, parsed.header.timestamp, nowMs);
    if (extended === null) return this.reorder.flush(nowMs);
    return this.reorder.push(extended, ts?.ok ? ts.ts : clear, nowMs);
  }

  /** The SRTP rollover counter reached (a later publish of the same source starts from it). */
  get roc(): number {
    return this.srtp?.rolloverCounter ?? 0;
  }

  /** A packet that claimed this flow's SSRC from elsewhere and did not authenticate. */
  countAuthFailure(): void {
    this.authFailures += 1;
  }

  flush(nowMs: number): Uint8Array[] {
    return this.reorder.flush(nowMs);
  }

  drain(): Uint8Array[] {
    return this.reorder.drain();
  }

  /** The next RTCP receiver report (SRTCP for an SRTP sender); starts the next fraction-lost interval. */
  receiverReport(reporterSsrc: number, cname: string): Buffer {
    const rr = buildReceiverReport({
      reporterSsrc,
      sourceSsrc: this.ssrc,
      stats: this.stats.snapshot(true),
      cname,
    });
    if (!this.o.rtcpKeys) return rr;
    this.rtcpIndex = (this.rtcpIndex + 1) & 0x7fff_ffff;
    return protectRtcp(this.o.rtcpKeys, rr, this.rtcpIndex);
  }

  snapshot(): RtpFlowStats {
    const s = this.stats.snapshot();
    return {
      ssrc: this.ssrc,
      srtp: this.srtp !== null,
      packetsReceived: s.received,
      lost: s.cumulativeLost,
      fractionLost: s.fractionLost,
      jitterMs: Math.round(s.jitterMs * 100) / 100,
      reordered: s.reordered,
      late: this.reorder.counters().late,
      authFailures: this.authFailures,
      replays: this.replays,
      malformed: this.malformed,
      refusedSources: this.refusedSources,
    };
  }
}
