import { StreamId } from '../contracts/names.js';
import { LadderPreset } from '../ladder.js';
import { DEFAULT_LATENCY_PROFILE, LatencyProfile } from '../latency-profiles.js';
import * as z from '../zod.js';

/** The stream-id grammar lives with the other shared names; the control and session APIs import it from here. */
export { RESERVED_STREAM_IDS, StreamId } from '../contracts/names.js';

/** SRT passphrase rules (libsrt): 10 to 79 characters. */
export const Passphrase = z.string().check(z.minLength(10), z.maxLength(79));
export const KeyLength = z.union([z.literal(16), z.literal(24), z.literal(32)]);

/**
 * The contribution link's profile (`latency`): SRT receive latency, not delivery. Named apart from the delivery
 * profile (`latencyProfile`, core/latency-profiles.ts) since a stream chooses the two independently.
 */
export const SrtLatency = z.enum(['low', 'standard']);
export type SrtLatency = z.infer<typeof SrtLatency>;
/**
 * SRT receive latency per profile (ms), about 4x RTT (decision D11): `low` is libsrt's default 120 ms, enough on
 * clean regional links; `standard` (500 ms) still delivers every packet at 5 % loss and 40 ms RTT.
 */
export const SRT_LATENCY_MS: Record<SrtLatency, number> = { low: 120, standard: 500 };

/**
 * Who may see and open a stream (decision D36): `public`, anyone; `private`, viewers with an entitlement for it.
 * New records always carry it (the stage's default when the operator gives none).
 */
export const Visibility = z.enum(['public', 'private']);
export type Visibility = z.infer<typeof Visibility>;

export const StreamRecord = z.object({
  id: StreamId,
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  ladder: LadderPreset,
  latency: SrtLatency,
  /**
   * Delivery cost-latency profile (decision D28): each rendition's part duration and the ladder's segment duration.
   * Records written before it existed read as the default. The ingest applies it when it opens the stream's
   * renditions (the next encoder connection after a change).
   */
  latencyProfile: z._default(LatencyProfile, DEFAULT_LATENCY_PROFILE),
  /**
   * AES-encrypted ingest. The secrets themselves (publish-key hash, sealed passphrase) live apart, at
   * `mirror:secret:{id}` (decision D38); records written before carried them inline (`LegacySecrets`), and read
   * through parseStreamRecord, which says `encrypted` for them.
   */
  encrypted: z.optional(z.boolean()),
  keyLength: KeyLength,
  /**
   * Paused by the operator (decision D32): the encoder stays connected, viewers get a slate. Kept in the record so
   * a task that takes the stream over (reconnect, drain, another task) starts it paused. Absent = not paused.
   */
  paused: z.optional(z.boolean()),
  /**
   * Absent only in records written before it existed: those read as `public`, which is what they were (D36), so
   * a deploy neither hides nor exposes a stream. Not defaulted here: the record keeps saying "never chosen".
   */
  visibility: z.optional(Visibility),
  /** Each broadcast is recorded (decision D40) unless this is false; absent (older records) reads as true. */
  record: z.optional(z.boolean()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type StreamRecord = z.infer<typeof StreamRecord>;

/** Secrets a record written before decision D38 carries inline (read to migrate them; never written again). */
export const LegacySecrets = z.object({
  publishKey: z.string().check(z.minLength(16), z.maxLength(128)),
  passphrase: z.nullable(Passphrase),
});
export type LegacySecrets = z.infer<typeof LegacySecrets>;
/** A record as written before D38 (tests and benches still write this form: it is what the ingest must read). */
export type LegacyStreamRecord = StreamRecord & LegacySecrets;

/** The publish credentials as issued (create, rotate): shown once, then only their hash and seal are kept. */
export interface StreamCredentials {
  readonly publishKey: string;
  readonly passphrase: string | null;
}

/** A record from its stored JSON: inline legacy secrets dropped (they only say `encrypted`). */
export function parseStreamRecord(value: unknown): StreamRecord {
  const record = StreamRecord.parse(value);
  if (record.encrypted !== undefined) return record;
  const legacy = LegacySecrets.safeParse(value);
  return { ...record, encrypted: legacy.success && legacy.data.passphrase !== null };
}

/** The inline secrets of a record written before D38, if it is one. */
export function legacySecrets(value: unknown): LegacySecrets | undefined {
  const legacy = LegacySecrets.safeParse(value);
  return legacy.success ? legacy.data : undefined;
}

/** What is published on the stream-changes channel. Carries no secrets: subscribers re-read the record. */
export const StreamChange = z.object({
  type: z.enum(['upsert', 'delete']),
  streamId: z.string(),
});
export type StreamChange = z.infer<typeof StreamChange>;

/**
 * Commands on `mirror:ingest:commands`; every task hears every one and acts only on the streams it publishes.
 * `pause`/`resume` carry no state of their own: the task applies `paused` as given (idempotent), and the stream
 * record holds the same flag for a task that opens the stream later (decision D32).
 */
export const IngestCommand = z.discriminatedUnion('type', [
  z.object({ type: z.literal('disconnect'), streamId: z.string(), reason: z.string() }),
  z.object({ type: z.literal('pause'), streamId: z.string() }),
  z.object({ type: z.literal('resume'), streamId: z.string() }),
  z.object({ type: z.literal('restart'), streamId: z.string() }),
]);
export type IngestCommand = z.infer<typeof IngestCommand>;
