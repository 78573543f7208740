import { z } from 'zod';
import { LadderPreset } from '../ladder.js';

/** Stream ids appear in URLs and S3 keys (keys start with the stream id): lowercase slug, not a reserved path. */
export const RESERVED_STREAM_IDS = ['api', 'app', 'assets', 'viewer', 'operator', 'health'] as const;
export const StreamId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
  )
  .refine((id) => !(RESERVED_STREAM_IDS as readonly string[]).includes(id), 'is a reserved path');

/** SRT passphrase rules (libsrt): 10 to 79 characters. */
export const Passphrase = z.string().min(10).max(79);
export const KeyLength = z.union([z.literal(16), z.literal(24), z.literal(32)]);

export const LatencyProfile = z.enum(['low', 'standard']);
/** SRT receive latency per profile (ms): about 4x RTT; 120 ms is libsrt's and the seed's default. */
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
