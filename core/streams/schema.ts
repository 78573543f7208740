import { z } from 'zod';
import { StreamId } from '../contracts/names.js';
import { LadderPreset } from '../ladder.js';

/** The stream-id grammar lives with the other shared names; the control and session APIs import it from here. */
export { RESERVED_STREAM_IDS, StreamId } from '../contracts/names.js';

/** SRT passphrase rules (libsrt): 10 to 79 characters. */
export const Passphrase = z.string().min(10).max(79);
export const KeyLength = z.union([z.literal(16), z.literal(24), z.literal(32)]);

export const LatencyProfile = z.enum(['low', 'standard']);
/**
 * SRT receive latency per profile (ms), about 4x RTT (decision D11): `low` is libsrt's default 120 ms, enough on
 * clean regional links; `standard` (500 ms) still delivers every packet at 5 % loss and 40 ms RTT.
 */
export const SRT_LATENCY_MS: Record<z.infer<typeof LatencyProfile>, number> = { low: 120, standard: 500 };

export const StreamRecord = z.object({
  id: StreamId,
  name: z.string().min(1).max(200),
  ladder: LadderPreset,
  latency: LatencyProfile,
  /** Secret: identifies the publisher in the SRT streamid. Never logged. */
  publishKey: z.string().min(16).max(128),
  /** Secret: SRT AES passphrase; null = unencrypted ingest. Never logged. */
  passphrase: Passphrase.nullable(),
  keyLength: KeyLength,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type StreamRecord = z.infer<typeof StreamRecord>;

/** What is published on the stream-changes channel. Carries no secrets: subscribers re-read the record. */
export const StreamChange = z.object({
  type: z.enum(['upsert', 'delete']),
  streamId: z.string(),
});
export type StreamChange = z.infer<typeof StreamChange>;

export const IngestCommand = z.object({
  type: z.literal('disconnect'),
  streamId: z.string(),
  reason: z.string(),
});
export type IngestCommand = z.infer<typeof IngestCommand>;
