import { StreamId } from '../contracts/names.js';
import { LadderPreset } from '../ladder.js';
import { DEFAULT_LATENCY_PROFILE, LatencyProfile } from '../latency-profiles.js';
import * as z from '../zod.js';

/** The stream-id grammar lives with the other shared names; the control and session APIs import it from here. */
export { RESERVED_STREAM_IDS, StreamId } from '../contracts/names.js';

/*
 * Built on first use (decision D48): each composite schema is a `z.lazy` (one cheap schema at load; its inside built
 * on the first parse), marked pure so that a bundle which never reads it drops it; a part that other schemas here
 * share is a `z.once` factory they call inside their getters, so it costs nothing at load. Single enums stay as they
 * are: a lazy would cost one schema too.
 */

/** SRT passphrase rules (libsrt): 10 to 79 characters. */
const passphrase = z.once(() => z.string().check(z.minLength(10), z.maxLength(79)));
export const Passphrase = /* @__PURE__ */ z.lazy(passphrase);
export const keyLength = z.once(() => z.union([z.literal(16), z.literal(24), z.literal(32)]));
export const KeyLength = /* @__PURE__ */ z.lazy(keyLength);

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

/** The contribution protocol (issue 15, decision D46): SRT, or RTP on its own UDP port. Absent in a record = srt. */
export const IngestProtocol = z.enum(['srt', 'rtp']);
export type IngestProtocol = z.infer<typeof IngestProtocol>;

/**
 * What an RTP encoder sends: `mp2t`, MPEG-TS over RTP (RFC 2250, PT 33, `ffmpeg -f rtp_mpegts`); `h264`/`hevc`,
 * elementary video (RFC 6184/7798) with AAC audio (RFC 3640) as two RTP streams described by an SDP.
 */
export const RtpPayload = z.enum(['mp2t', 'h264', 'hevc']);
export type RtpPayload = z.infer<typeof RtpPayload>;

/** At most this many plain-RTP sources per stream: an allow-list, not a routing table (bounded per stream). */
export const MAX_PLAIN_SOURCES = 16;

/** One source an operator allows to send plain RTP: an IPv4/IPv6 address or CIDR block. */
const plainSource = z.once(() => z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]));
export const PlainSource = /* @__PURE__ */ z.lazy(plainSource);

/** The object itself, for the control API's create body that reuses a field (`.shape`). */
export const rtpSettingsObject = z.once(() =>
  z.object({
    payload: RtpPayload,
    /**
     * Present = the operator explicitly allows plain RTP (no SRTP: no authentication, no encryption) for this stream,
     * from these source addresses only; absent = SRTP required (decision D46). Never empty: an empty list would read
     * as "plain allowed" while admitting nobody.
     */
    plainSources: z.optional(z.array(plainSource()).check(z.minLength(1), z.maxLength(MAX_PLAIN_SOURCES))),
  }),
);
export const RtpSettings = /* @__PURE__ */ z.lazy(rtpSettingsObject);
export type RtpSettings = z.infer<typeof RtpSettings>;

export const StreamRecord = /* @__PURE__ */ z.lazy(() =>
  z.object({
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
    keyLength: keyLength(),
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
    /** Absent (every record written before RTP existed) = srt. */
    protocol: z.optional(IngestProtocol),
    /** RTP streams only: what the encoder sends and whether plain RTP is allowed (decision D46). */
    rtp: z.optional(RtpSettings),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
);
export type StreamRecord = z.infer<typeof StreamRecord>;

/** Secrets a record written before decision D38 carries inline (read to migrate them; never written again). */
export const LegacySecrets = /* @__PURE__ */ z.lazy(() =>
  z.object({
    publishKey: z.string().check(z.minLength(16), z.maxLength(128)),
    passphrase: z.nullable(passphrase()),
  }),
);
export type LegacySecrets = z.infer<typeof LegacySecrets>;
/** A record as written before D38 (tests and benches still write this form: it is what the ingest must read). */
export type LegacyStreamRecord = StreamRecord & LegacySecrets;

/** The publish credentials as issued (create, rotate): shown once, then only their hash and seal are kept. */
export interface StreamCredentials {
  readonly publishKey: string;
  readonly passphrase: string | null;
  /**
   * RTP streams: the SRTP master key and salt (`-srtp_out_params`, core/streams/secrets.ts SRTP_KEY_BYTES); null when
   * the operator allows plain RTP instead; absent for SRT streams.
   */
  readonly srtpKey?: string | null;
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
export const StreamChange = /* @__PURE__ */ z.lazy(() =>
  z.object({
    type: z.enum(['upsert', 'delete']),
    streamId: z.string(),
  }),
);
export type StreamChange = z.infer<typeof StreamChange>;

/**
 * Commands on `mirror:ingest:commands`; every task hears every one and acts only on the streams it publishes.
 * `pause`/`resume` carry no state of their own: the task applies `paused` as given (idempotent), and the stream
 * record holds the same flag for a task that opens the stream later (decision D32).
 */
export const IngestCommand = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('disconnect'), streamId: z.string(), reason: z.string() }),
    z.object({ type: z.literal('pause'), streamId: z.string() }),
    z.object({ type: z.literal('resume'), streamId: z.string() }),
    z.object({ type: z.literal('restart'), streamId: z.string() }),
  ]),
);
export type IngestCommand = z.infer<typeof IngestCommand>;
