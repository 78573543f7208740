// What the control API answers, as the operator page reads it (functions/control views).

export interface StreamStatus {
  /** `paused`: the encoder is connected, viewers see the slate (decision D32). */
  state: 'live' | 'paused' | 'idle' | 'error';
  taskId?: string;
  input?: { codec?: string; width?: number; height?: number; fps?: number; bitrateKbps?: number };
  srt?: { rttMs?: number; lossPercent?: number };
  renditions: string[];
  /** The latest part's publish latency at the ingest, ms (functions/control schemas: `latencyMs`). */
  latencyMs?: number;
  error?: string;
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

/** A stream's publish credentials: shown once, after create or rotate. */
export interface Credentials {
  publishKey: string;
  passphrase: string | null;
  srtUrl: string;
  srtPlainKeyUrl: string;
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
