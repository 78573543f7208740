import type { z } from 'zod';
import { dvrPath } from '../../core/contracts/names.js';
import type { IngestStatus } from '../../core/streams/status.js';
import type * as S from './schemas.js';

/**
 * A stream's live status as the API shows it, from the ingest task's report and the publisher lease: a lease
 * without a report yet (the first second of a publish) already counts as live.
 */
export function statusView(
  status: IngestStatus | undefined,
  lease: string | undefined,
  streamId?: string,
): z.infer<typeof S.StreamStatusSchema> {
  const state = status?.state ?? (lease ? 'live' : 'idle');
  const onAir = state === 'live' || state === 'paused';
  return {
    state,
    taskId: status?.taskId ?? lease,
    broadcast: status?.broadcast,
    input: status?.input && {
      codec: status.input.codec,
      width: status.input.width,
      height: status.input.height,
      fps: status.input.fps,
      bitrateKbps: status.input.bitrateKbps,
      stats: status.input.stats,
    },
    srt: status?.srt && { rttMs: status.srt.rttMs, lossPercent: status.srt.lossPercent },
    protocol: status?.protocol,
    // Named fields only: the ingest's report is a loose object (its SSRC, say, is not the API's).
    rtp: status?.rtp && {
      srtp: status.rtp.srtp,
      lost: status.rtp.lost,
      fractionLost: status.rtp.fractionLost,
      jitterMs: status.rtp.jitterMs,
      reordered: status.rtp.reordered,
      authFailures: status.rtp.authFailures,
    },
    renditions: status?.renditions ?? [],
    // Beside `state`: a stream can be live while a rendition cannot publish (decision D21).
    storage: status?.storage?.state && {
      state: status.storage.state,
      renditions: (status.storage.renditions ?? []).map((r) => ({
        rendition: r.rendition,
        state: r.state,
        failedWrites: r.failedWrites,
        lostParts: r.lostParts,
        ...(r.lastError === undefined ? {} : { lastError: r.lastError }),
      })),
    },
    latencyMs: status?.latencyMs,
    thumbnailUrl: status?.thumbnailUrl,
    // The ingest writes every live stream's DVR window (D43): its playlist is there while the stream is on air.
    dvrUrl: onAir && streamId !== undefined ? dvrPath(streamId) : undefined,
    error: status?.error,
    updatedAt: status?.updatedAt,
  };
}
