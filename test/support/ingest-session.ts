import type { Session, SessionPipeline } from '../../containers/ingest/src/service/sessions.js';
import type { PipelineStatus } from '../../containers/ingest/src/transcode/pipeline.js';

/**
 * An admitted ingest session as the Reporter reads it: `status` answers for its pipeline, which takes and does
 * nothing else. `connId` null: the encoder has disconnected (the session waits out its grace).
 */
export function reportedSession(
  streamId: string,
  status: () => PipelineStatus,
  options: { readonly connId?: number | null; readonly connectedAt?: number } = {},
): Session<SessionPipeline> {
  const connId = options.connId === undefined ? 1 : options.connId;
  return {
    streamId,
    conn: connId === null ? null : ({ id: connId, streamId, peer: 'p' } as Session['conn']),
    pipeline: {
      write() {},
      endInput() {},
      async reconnect() {},
      async stop() {},
      status,
    },
    pending: null,
    pendingBytes: 0,
    graceTimer: null,
    connectedAt: options.connectedAt ?? Date.now(),
    fatal: null,
  };
}
