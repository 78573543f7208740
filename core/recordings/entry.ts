import * as z from '../zod.js';

/** Redis keys of the recordings index (decision D40), bounded: entries older than the retention are trimmed. */
export const recordingIndexKeys = {
  /** Sorted set per stream: recording ids scored by start (epoch ms), so newest first is ZREVRANGE. */
  byStream: (streamId: string) => `mirror:recordings:${streamId}`,
  /** One recording's entry (JSON), expiring with its objects' retention. */
  entry: (recordingId: string) => `mirror:recording:${recordingId}`,
  /** ACL glob covering both. */
  pattern: 'mirror:recording*',
};

export const RECORDING_STATUSES = ['recording', 'complete', 'failed'] as const;

export const RecordingEntry = z.object({
  id: z.string(),
  streamId: z.string(),
  broadcast: z.string(),
  /** Epoch ms of the first and (once ended) last recorded media. */
  start: z.number(),
  end: z.optional(z.number()),
  durationS: z.number(),
  bytes: z.number(),
  renditions: z.array(z.string()),
  status: z.enum(RECORDING_STATUSES),
  /** The recording's multivariant playlist path (URL path = storage key), once it ended. */
  playbackPath: z.optional(z.string()),
});
export type RecordingEntry = z.infer<typeof RecordingEntry>;

/** Default retention of recordings (media.recordingRetentionDays): the index keeps entries as long. */
export const DEFAULT_RECORDING_RETENTION_DAYS = 30;
