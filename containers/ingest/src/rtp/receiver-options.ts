import type { Logger } from '../../../../core/logger.js';
import { PAYLOAD_TYPE_MP2T } from '../../../../core/rtp/packet.js';
import { AUDIO_PAYLOAD_TYPE, VIDEO_PAYLOAD_TYPE } from '../../../../core/streams/rtp-sdp.js';
import type { RtpPayload } from '../../../../core/streams/schema.js';
import type { FlowKind } from './flow.js';

/** The RTP receiver's settings, bounds and counters (receiver.ts), with the reasons for each figure. */

/** No authenticated packet for this long ends the publish (as libsrt's 5 s peer idle timeout ends an SRT one). */
export const DEFAULT_SILENCE_MS = 5000;
/** RFC 3550 §6.2's minimum report interval. */
export const DEFAULT_RTCP_INTERVAL_MS = 5000;
/**
 * A refused or closed source (second sender, lease elsewhere, disconnected by the control API) is not tried again
 * for this long: its packets are dropped untried instead of costing a trial each.
 */
export const REFUSED_SOURCE_HOLD_MS = 5000;
export const MAX_HELD_SOURCES = 4096;
/**
 * A sender's SRTP rollover counter is not on the wire (RFC 3711 §3.3.1): a new sender starts at 0, but one that has
 * sent more than 65,536 packets before this task sees it (its publish moved here from a task that stopped, or the
 * stream resumed after a silence on another task) has counted past it. Such a source is tried at ROC 1..256 too
 * (at 200 packets/s, 2 Mbit/s of MPEG-TS, about a day of sending), at most ROC_SCANS_PER_S times a second for the
 * whole task: 256 HMACs per key per scan, so a flood of garbage cannot turn scans into a CPU sink.
 */
export const MAX_ROC_SCAN = 256;
export const ROC_SCANS_PER_S = 2;
export const ROC_SCAN_BURST = 4;
/** Clear packets held for an elementary stream while its demuxer starts (a few ms): a GOP at most, then dropped. */
export const MAX_WAITING_PACKETS = 1024;
/** Timer of the reorder flush and the silence check: the reorder delay's granularity. */
export const TICK_MS = 20;
/** Receive buffer: a second of 50 Mbit/s across the task's streams while the event loop is busy. */
export const SOCKET_RECEIVE_BYTES = 8 * 1024 * 1024;

/** What the receiver needs of an RTP stream (registry.ts IngestAdmission + the record's rtp settings). */
export interface RtpStreamEntry {
  /** `-srtp_out_params` form; null = plain RTP from `plainSources` only. */
  readonly srtpKey: string | null;
  readonly plainSources?: readonly string[];
  /** What the encoder sends (the record's rtp.payload); mp2t when absent. */
  readonly payload?: RtpPayload;
}

export interface RtpReceiverOptions {
  readonly port: number;
  readonly host?: string;
  readonly silenceMs?: number;
  readonly reorderPackets?: number;
  readonly reorderDelayMs?: number;
  /** 0 sends no receiver reports. */
  readonly rtcpIntervalMs?: number;
  readonly takeoverIdleMs?: number;
  /** The demuxer of elementary H.264/HEVC + AAC streams. */
  readonly ffmpegPath?: string;
  readonly logger?: Logger;
}

/** Task-level counters of packets that belong to no publishing stream. */
export interface RtpReceiverCounters {
  /** Tried against every stream's key, none authenticated: dropped, never decoded. */
  unauthenticated: number;
  /** Dropped untried: the source exceeded its trial rate. */
  rateLimited: number;
  /** Dropped untried: the source was refused (second source, lease elsewhere) a moment ago. */
  refused: number;
  /** Not RTP at all. */
  malformed: number;
}

/** The medium a packet of a stream carries, by payload type (core/streams/rtp-sdp.ts); null: none of its. */
export function flowKind(payload: RtpPayload, payloadType: number): FlowKind | null {
  if (payload === 'mp2t') return payloadType === PAYLOAD_TYPE_MP2T ? 'ts' : null;
  if (payloadType === VIDEO_PAYLOAD_TYPE) return 'video';
  return payloadType === AUDIO_PAYLOAD_TYPE ? 'audio' : null;
}
