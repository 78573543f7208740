import type { z } from 'zod';
import type { IngestStatus } from '../../core/streams/status.js';
import type * as S from './schemas.js';

/**
 * A stream's live status as the API shows it, from the ingest task's report and the publisher lease: a lease
 * without a report yet (the first second of a publish) already counts as live.
 */
export function statusView(
  status: IngestStatus | undefined,
  lease: string | undefined,
): z.infer<typeof S.StreamStatusSchema> {
  const state = status?.state ?? (lease ? 'live' : 'idle');
  return {
    state,
    taskId: status?.taskId ?? lease,
    input: status?.input && {
      codec: status.input.codec,
      width: status.input.width,
      height: status.input.height,
      fps: status.input.fps,
      bitrateKbps: status.input.bitrateKbps,
    },
    srt: status?.srt && { rttMs: status.srt.rttMs, lossPercent: status.srt.lossPercent },
    renditions: status?.renditions ?? [],
    latencyMs: status?.latencyMs,
    error: status?.error,
    updatedAt: status?.updatedAt,
  };
}
