/**
 * Redis key and channel names for the stream registry and ingest coordination.
 * Everything Mirror keeps in Redis starts with `mirror:`; live playlist state lives under `mirror:live:`.
 */
export const KEY_PREFIX = 'mirror:';

export const streamKeys = {
  /** JSON StreamRecord: public fields only (name, ladder, ...); the session function reads it. */
  record: (streamId: string) => `${KEY_PREFIX}stream:${streamId}`,
  /**
   * JSON StreamSecret (publish-key hash, sealed passphrase): a prefix of its own so that a Redis ACL key pattern can
   * keep the public functions out (decision D38). Records written before it carried the secrets inline.
   */
  secret: (streamId: string) => `${KEY_PREFIX}secret:${streamId}`,
  /** Sorted set of stream ids scored by creation time (ms), for stable pagination. */
  index: `${KEY_PREFIX}streams`,
  /**
   * A random id set once, with the first stream, and never changed: an ingest task that finds it gone after a
   * reconnect knows Redis lost its data set (a failover without a replica) rather than that streams were deleted.
   */
  epoch: `${KEY_PREFIX}streams:epoch`,
  /**
   * Legacy (before D38): publishKey -> streamId. Publish keys are no longer part of any key name (the ingest resolves
   * a plain-key streamid from the hashes it holds); only deleted now, when a record written before is migrated.
   */
  byPublishKey: (publishKey: string) => `${KEY_PREFIX}streamkey:${publishKey}`,
  /** Idempotent create: client token -> streamId, with a TTL. */
  clientToken: (token: string) => `${KEY_PREFIX}clienttoken:${token}`,
  /** Publisher lease: value is the ingest task id, PX TTL renewed while publishing. */
  lease: (streamId: string) => `${KEY_PREFIX}lease:${streamId}`,
  /** JSON live ingest status (codec, resolution, bitrate, SRT stats, task), with a TTL. */
  status: (streamId: string) => `${KEY_PREFIX}status:${streamId}`,
  /**
   * List of the stream's recent broadcasts (JSON BroadcastEntry, newest first, capped at BROADCAST_HISTORY), with
   * no TTL: which media folders a stream has, long after its live state expired (decision D16). Deleted with the
   * stream.
   */
  broadcasts: (streamId: string) => `${KEY_PREFIX}broadcasts:${streamId}`,
} as const;

export const taskKeys = {
  /** JSON capacity/load report of one ingest task, with a TTL. */
  report: (taskId: string) => `${KEY_PREFIX}task:${taskId}`,
  /** Sorted set of task ids scored by last report time (ms). */
  index: `${KEY_PREFIX}tasks`,
} as const;

export const channels = {
  /** Registry changes, JSON StreamChange: ingest tasks refresh their native passphrase table from it. */
  streamChanges: `${KEY_PREFIX}streams:changes`,
  /** Commands to ingest tasks, JSON IngestCommand (for example: disconnect a publisher). */
  ingestCommands: `${KEY_PREFIX}ingest:commands`,
  /** The operator page's live updates, JSON OperatorEvent (core/events/operator-events.ts, decision D44). */
  operatorEvents: `${KEY_PREFIX}events`,
} as const;
