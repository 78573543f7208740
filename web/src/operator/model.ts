// What the control API answers, as the operator page reads it (functions/control views).

export interface StreamStatus {
  /** `paused`: the encoder is connected, viewers see the slate (decision D32). */
  state: 'live' | 'paused' | 'idle' | 'error';
  taskId?: string;
  input?: {
    codec?: string;
    width?: number;
    height?: number;
    fps?: number;
    bitrateKbps?: number;
    /** A/V sync, GOP and timing figures of the input (decision D42; null: not measured yet). */
    stats?: InputStats;
  };
  srt?: { rttMs?: number; lossPercent?: number };
  /** The connected publisher's protocol (decision D46); absent while idle. */
  protocol?: 'srt' | 'rtp';
  /** An RTP publisher's reception (RFC 3550): cumulative loss, fraction lost 0..1, jitter, SRTP auth failures. */
  rtp?: {
    srtp?: boolean;
    lost?: number;
    fractionLost?: number;
    jitterMs?: number;
    reordered?: number;
    authFailures?: number;
  };
  renditions: string[];
  /** The latest part's publish latency at the ingest, ms (functions/control schemas: `latencyMs`). */
  latencyMs?: number;
  /** The latest picture, 320 px wide, refreshed every second while live (decision D41). */
  thumbnailUrl?: string;
  error?: string;
  /** When the ingest wrote it: the live updates keep the newer of a pushed and a fetched status (D44). */
  updatedAt?: string;
}

export interface Stream {
  id: string;
  name: string;
  ladder: string;
  latency: string;
  encrypted: boolean;
  /** Paused by an operator (kept until resumed); absent from an API older than decision D32. */
  paused?: boolean;
  /** Who may watch (decision D36): `private` streams only viewers with an entitlement for them. */
  visibility?: 'public' | 'private';
  status: StreamStatus;
  viewers: number;
}

/**
 * A stream's publish credentials: shown once, after create or rotate. Each part is present only when this call
 * issued it (D38: Mirror keeps the key hashed and the passphrase sealed, so neither can be shown again); `passphrase`
 * null means the stream is unencrypted.
 */
export interface Credentials {
  publishKey?: string;
  passphrase?: string | null;
  srtUrl?: string;
  srtPlainKeyUrl?: string;
  /** RTP streams (decision D46): the SRTP key (null: plain RTP), destination, SDP (h264/hevc), ffmpeg command. */
  srtpKey?: string | null;
  rtpUrl?: string;
  sdp?: string;
  ffmpeg?: string;
}

export interface IngestTask {
  taskId: string;
  capacity?: number;
  streams?: number;
  cpuPercent?: number;
  gpu?: boolean;
}

export interface Ingest {
  tasks: IngestTask[];
  totals: { capacity: number; streams: number };
  service: {
    desiredCount: number;
    runningCount: number;
    pendingCount: number;
    minTasks: number;
    maxTasks: number;
  } | null;
}

/** `input.stats` of the stream status (core/media/av-stats.ts, INPUT_STATS_SHAPE). */
export interface InputStats {
  avOffsetMs: number | null;
  avDriftMsPerMin: number | null;
  startOffsetMs: number | null;
  gop: { frames: number; ms: number; minFrames: number; maxFrames: number; stddevFrames: number } | null;
  bFrames: boolean;
  fps: number | null;
  frameIntervalJitterMs: number | null;
  continuityErrors: number;
  queuePercent?: number;
}
