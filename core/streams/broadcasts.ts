import { z } from 'zod';
import { BroadcastId } from '../contracts/names.js';

/**
 * A stream's broadcasts (decision D16): one per admitted encoder connection, named by the ingest at admission. The
 * id is the folder of every media object the broadcast writes; the log keeps the recent ones outside the live
 * state's TTL, so an operator can find a stream's media (and the times it was on air) after its playlist is gone.
 * Uniqueness never depends on this log: ids are unique by construction (newBroadcastId).
 */
export const BroadcastEntry = z.looseObject({
  id: BroadcastId,
  /** ISO time the connection was admitted. */
  startedAt: z.string(),
  /** ISO time the connection closed; absent while on air, or when the task died before it could say so. */
  endedAt: z.string().optional(),
  /** The ingest task that took it. */
  taskId: z.string().optional(),
});
export type BroadcastEntry = z.infer<typeof BroadcastEntry>;

/** Broadcasts kept per stream, newest first: weeks of a camera that reconnects a few times a day, a few KB. */
export const BROADCAST_HISTORY = 50;

/** Where the ingest records broadcasts (core/adapters/streams/broadcasts.ts on Redis). */
export interface BroadcastLog {
  /** A connection was admitted: its broadcast goes first in the stream's list (only if the stream exists). */
  started(streamId: string, entry: BroadcastEntry): Promise<void>;
  /** The broadcast's connection closed. */
  ended(streamId: string, id: string, endedAt: string): Promise<void>;
}
