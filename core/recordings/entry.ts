import { recordingFiles } from '../contracts/names.js';
import * as z from '../zod.js';

/** Redis keys of the recordings index (decision D40), bounded: entries older than the retention are trimmed. */
export const recordingIndexKeys = {
  /** Sorted set per stream: recording ids scored by start (epoch ms), so newest first is ZREVRANGE. */
  byStream: (streamId: string) => `mirror:recordings:${streamId}`,
  /** One recording's entry (JSON), expiring with its objects' retention. */
  entry: (recordingId: string) => `mirror:recording:${recordingId}`,
  /**
   * Set (PX RECORDING_ALIVE_TTL_MS) and renewed every RECORDING_HEARTBEAT_MS by the recorder while the broadcast is
   * recorded: an entry in `recording` without it belongs to a recorder that died (decision D40, amended).
   */
  alive: (recordingId: string) => `mirror:recording-alive:${recordingId}`,
  /** ACL glob covering all three. */
  pattern: 'mirror:recording*',
};

export const RECORDING_STATUSES = ['recording', 'complete', 'failed'] as const;

/** Built on first use (decision D48): a function that never reads a recording builds none of it. */
export const RecordingEntry = /* @__PURE__ */ z.lazy(() =>
  z.object({
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
    /** Epoch ms of the entry's last write: a crashed recording's end is taken from it. */
    updated: z.optional(z.number()),
    /**
     * Per rendition, how many chunks (`rec-0` to `rec-{chunks-1}`) and init versions (`rec-init-1` on) were stored:
     * a recording whose recorder died has no playlists to list them, and its delete enumerates them from here.
     */
    objects: z.optional(z.record(z.string(), z.object({ chunks: z.number(), inits: z.number() }))),
  }),
);
export type RecordingEntry = z.infer<typeof RecordingEntry>;

/** Default retention of recordings (media.recordingRetentionDays): the index keeps entries as long. */
export const DEFAULT_RECORDING_RETENTION_DAYS = 30;

/** How often a recorder renews its recordings' alive keys. */
export const RECORDING_HEARTBEAT_MS = 10_000;
/** An alive key outlives three missed renewals: a Redis hiccup does not end a recording that goes on. */
export const RECORDING_ALIVE_TTL_FACTOR = 3;

/**
 * The entry as readers should see it: one still `recording` whose recorder no longer renews its alive key
 * (a task or process that crashed, or was killed, before it could end its sinks) ended `failed` at its last write.
 */
export function settledEntry(entry: RecordingEntry, alive: boolean): RecordingEntry {
  if (entry.status !== 'recording' || alive) return entry;
  return { ...entry, status: 'failed', end: entry.updated ?? entry.start + entry.durationS * 1000 };
}

/**
 * Object keys of a recording the index lists (see `objects`), whether or not its playlists were written: each
 * counted chunk and init, plus the one after each (a crash between an object's put and its index write).
 */
export function countedObjectNames(entry: RecordingEntry): { rendition: string; names: string[] }[] {
  return Object.entries(entry.objects ?? {}).map(([rendition, { chunks, inits }]) => ({
    rendition,
    names: [
      ...Array.from({ length: chunks + 1 }, (_, i) => recordingFiles.chunk(i)),
      ...Array.from({ length: inits + 1 }, (_, i) => recordingFiles.init(i + 1)),
    ],
  }));
}
