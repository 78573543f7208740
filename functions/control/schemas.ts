import { MAX_ENTITLED_STREAMS, MAX_ENTITLEMENT_TTL_S } from '../../core/auth/entitlement.js';
import { streamIdSchema } from '../../core/contracts/names.js';
import { DEFAULT_LADDER, LadderPreset } from '../../core/ladder.js';
import { DEFAULT_LATENCY_PROFILE, LatencyProfile } from '../../core/latency-profiles.js';
import { STORAGE_STATES } from '../../core/media/rendition-sink.js';
import {
  IngestProtocol,
  keyLength,
  RtpPayload,
  rtpSettingsObject,
  SrtLatency,
  StreamId,
  Visibility,
} from '../../core/streams/schema.js';
import { inputReportShape, taskLoadShape } from '../../core/streams/status.js';
import * as z from '../../core/zod.js';

/**
 * Request and response schemas of the control API: validation and the OpenAPI document both come from here. Each is
 * a memoised factory (`z.once`, decision D48) that the route specs hold uncalled (core/api/router.ts SchemaRef): a
 * cold start builds none of them, a request builds its own route's on its first match, and keeps them.
 */

export const StreamIdParam = z.once(() =>
  streamIdSchema().check(z.meta({ description: 'Stream id (lowercase slug).' })),
);
/** The path parameters of the routes under `/api/control/streams/{streamId}`. */
export const StreamPathParams = { streamId: StreamIdParam };

const LATENCY_PROFILE_DOC =
  'Delivery cost-latency profile (docs/api.md): `low` 133 ms parts (sub-second), `standard` 267 ms parts (about ' +
  '1 s, half the requests), `wall` short parts on full-size rungs and 400 ms parts on the tile rung (multi-view ' +
  'walls). Applies from the next encoder connection.';

const streamName = z.once(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(200)));
const VISIBILITY_DOC =
  '`public`: listed and playable by anyone; `private`: only for viewers with an entitlement naming it (docs/api.md).';

const RECORD_DOC = 'Record each broadcast as a VOD recording (decision D40); recording is on when absent.';

const PROTOCOL_DOC =
  '`srt` (default): SRT caller to the SRT port. `rtp`: RTP to the RTP port (decision D46), SRTP-protected unless ' +
  '`rtp.plainSources` lists the addresses allowed to send plain RTP.';
const PLAIN_SOURCES_DOC =
  'Allow plain RTP (no SRTP: neither authenticated nor encrypted) for this stream, from these IPv4/IPv6 addresses ' +
  'or CIDR blocks only (1 to 16). Absent: SRTP required; the create answers the SRTP key once.';

/** The RTP settings as a create takes them: payload defaults to MPEG-TS (the simplest encoder setup). */
const rtpBody = () =>
  z.strictObject({
    payload: z._default(RtpPayload, 'mp2t').check(
      z.meta({
        description:
          '`mp2t`: MPEG-TS over RTP (RFC 2250, `ffmpeg -f rtp_mpegts`). `h264`/`hevc`: elementary video with AAC ' +
          'audio as two RTP streams described by the SDP the create answers.',
      }),
    ),
    plainSources: z
      .optional(rtpSettingsObject().shape.plainSources)
      .check(z.meta({ description: PLAIN_SOURCES_DOC })),
  });

export const CreateStreamBody = z.once(() =>
  z.strictObject({
    id: z.optional(StreamId).check(z.meta({ description: 'Stream id; derived from the name when absent.' })),
    name: streamName(),
    ladder: z._default(LadderPreset, DEFAULT_LADDER),
    latency: z._default(SrtLatency, 'low'),
    latencyProfile: z
      ._default(LatencyProfile, DEFAULT_LATENCY_PROFILE)
      .check(z.meta({ description: LATENCY_PROFILE_DOC })),
    encrypted: z
      ._default(z.boolean(), true)
      .check(z.meta({ description: 'Generate an SRT AES passphrase.' })),
    keyLength: z._default(keyLength(), 16),
    visibility: z
      .optional(Visibility)
      .check(z.meta({ description: `${VISIBILITY_DOC} Defaults to the stage's (private in prod).` })),
    record: z.optional(z.boolean()).check(z.meta({ description: RECORD_DOC })),
    protocol: z._default(IngestProtocol, 'srt').check(z.meta({ description: PROTOCOL_DOC })),
    rtp: z
      .optional(rtpBody())
      .check(z.meta({ description: 'RTP streams only; `{ "payload": "mp2t" }` when absent.' })),
    clientToken: z
      .optional(
        z
          .string()
          .check(
            z.minLength(8),
            z.maxLength(64),
            z.regex(/^[A-Za-z0-9._-]+$/, 'must be 8-64 letters, digits, dots, dashes or underscores'),
          ),
      )
      .check(
        z.meta({ description: 'Idempotency token: repeating a create with it returns the same stream.' }),
      ),
  }),
);

export const UpdateStreamBody = z.once(() =>
  z
    .strictObject({
      name: z.optional(streamName()),
      ladder: z.optional(LadderPreset),
      latency: z.optional(SrtLatency),
      latencyProfile: z.optional(LatencyProfile).check(z.meta({ description: LATENCY_PROFILE_DOC })),
      visibility: z.optional(Visibility).check(z.meta({ description: VISIBILITY_DOC })),
      record: z.optional(z.boolean()).check(z.meta({ description: RECORD_DOC })),
    })
    .check(
      z.refine((v) => Object.keys(v).length > 0, {
        message: 'name at least one of name, ladder, latency, latencyProfile, visibility, record',
      }),
    ),
);

export const RotateBody = z.once(() =>
  z
    .strictObject({
      publishKey: z._default(z.boolean(), true),
      passphrase: z._default(z.boolean(), true),
      srtpKey: z.optional(z.boolean()).check(
        z.meta({
          description:
            'RTP streams: a new SRTP key unless false (their only credential: publishKey and passphrase are ignored ' +
            'for them). 409 for a stream that sends plain RTP.',
        }),
      ),
      disconnect: z
        ._default(z.boolean(), false)
        .check(z.meta({ description: 'Also drop the current publisher.' })),
    })
    .check(
      z.refine((v) => v.publishKey || v.passphrase || v.srtpKey === true, {
        message: 'rotate at least one of publishKey, passphrase, srtpKey',
        path: ['publishKey'],
      }),
    ),
);

export const DisconnectBody = z.once(() =>
  z.strictObject({
    reason: z._default(z.string().check(z.minLength(1), z.maxLength(200)), 'disconnected by operator'),
  }),
);

export const ScaleBody = z.once(() =>
  z.strictObject({
    desiredCount: z.int().check(z.minimum(0), z.maximum(1000)),
  }),
);

const limit = z.once(() => z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)));
export const ListQuery = z.once(() =>
  z.strictObject({
    limit: z._default(limit(), 50),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(400))),
  }),
);
export const AuditQuery = z.once(() => z.strictObject({ limit: z._default(limit(), 50) }));

const streamStatusObject = z.once(() =>
  z.object({
    state: z.enum(['live', 'paused', 'idle', 'error']).check(
      z.meta({
        description:
          '`paused`: the encoder is connected and viewers see the slate (pause/resume, decision D32); `live` ' +
          'while the encoder is connected otherwise.',
      }),
    ),
    taskId: z.optional(z.string()),
    broadcast: z.optional(z.string()).check(
      z.meta({
        description:
          'Id of the current (or last) broadcast, one per encoder connection: the folder of its media objects, ' +
          '`/{streamId}/{rendition}/{broadcast}/`.',
      }),
    ),
    input: z.optional(z.object(inputReportShape())),
    srt: z.optional(z.object({ rttMs: z.optional(z.number()), lossPercent: z.optional(z.number()) })),
    protocol: z
      .optional(IngestProtocol)
      .check(z.meta({ description: 'The connected publisher’s protocol; absent while idle.' })),
    rtp: z.optional(
      z
        .object({
          srtp: z.optional(z.boolean()),
          lost: z.optional(z.number()),
          fractionLost: z.optional(z.number()),
          jitterMs: z.optional(z.number()),
          reordered: z.optional(z.number()),
          authFailures: z.optional(z.number()),
        })
        .check(
          z.meta({
            description:
              'An RTP publisher’s reception (RFC 3550): cumulative `lost` packets, `fractionLost` (0..1) over the ' +
              'last report interval, interarrival `jitterMs`, `reordered` packets, and `authFailures`: packets that ' +
              'failed SRTP authentication, dropped unread.',
          }),
        ),
    ),
    renditions: z.array(z.string()),
    storage: z
      .optional(
        z.object({
          state: z.enum(STORAGE_STATES),
          renditions: z.array(
            z.object({
              rendition: z.string(),
              state: z.enum(STORAGE_STATES),
              failedWrites: z.int(),
              lostParts: z.int(),
              lastError: z.optional(z.string()),
            }),
          ),
        }),
      )
      .check(
        z.meta({
          description:
            'Whether the renditions can store and publish: `init-failed` while a rendition publishes nothing (its ' +
            'init segment is not stored; retried), `degraded` while one recovers from a lost write. `state` stays ' +
            '`live` meanwhile: the encoder is connected.',
        }),
      ),
    latencyMs: z.optional(z.number()).check(
      z.meta({
        description:
          'Part publish latency, ms: the latest part’s publish in the live state minus the arrival of its last byte ' +
          'from the transcoder (highest rendition over the last 3 s; the PartPublishLatencyMs metric).',
      }),
    ),
    thumbnailUrl: z.optional(z.string()).check(
      z.meta({
        description:
          'Path of the live stream’s latest picture: a 320 px wide JPEG refreshed every second, cached 1 s ' +
          '(`/{streamId}/thumbnail-320.jpg`; `thumbnail-640.jpg` is the tile rung’s size). Absent while idle.',
      }),
    ),
    dvrUrl: z.optional(z.string()).check(
      z.meta({
        description:
          'Path of the stream’s DVR multivariant playlist (`/{streamId}/dvr.m3u8`): a sliding window of ' +
          '`media.dvrWindowS` (4 h by default) that stock players seek back in; the live LL-HLS playlist stays ' +
          '`master.m3u8`. Same playback token as the stream’s other paths. Absent while idle.',
      }),
    ),
    error: z.optional(z.string()),
    updatedAt: z.optional(z.string()),
  }),
);
/** The status schema itself, for tests that parse a view (no function reads it: bundles drop it). */
export const StreamStatusSchema = /* @__PURE__ */ z.lazy(streamStatusObject);

export const StreamView = z.once(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    ladder: LadderPreset,
    latency: SrtLatency,
    latencyProfile: LatencyProfile,
    encrypted: z.boolean(),
    keyLength: keyLength(),
    visibility: Visibility,
    record: z.boolean().check(z.meta({ description: RECORD_DOC })),
    protocol: IngestProtocol.check(z.meta({ description: PROTOCOL_DOC })),
    rtp: z.optional(z.object({ payload: RtpPayload, plainSources: z.optional(z.array(z.string())) })),
    paused: z.boolean().check(
      z.meta({
        description: 'Paused by an operator: kept across reconnects and task changes until resumed.',
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
    status: streamStatusObject(),
    viewers: z.int(),
  }),
);

/**
 * Credentials as issued, each part only when it was issued by this call (decision D38: Mirror keeps the key as a
 * hash and the passphrase sealed for the ingest, so neither can be shown again): a rotation of one part omits the
 * other, and the URLs need every part they carry.
 */
export const Credentials = z.once(() =>
  z.object({
    publishKey: z.optional(z.string()),
    passphrase: z.optional(z.nullable(z.string())),
    keyLength: keyLength(),
    srtUrl: z.optional(
      z.string().check(z.meta({ description: 'SRT caller URL with the standard #!:: streamid.' })),
    ),
    srtPlainKeyUrl: z.optional(
      z.string().check(z.meta({ description: 'The same with the plain publish key as streamid.' })),
    ),
    srtpKey: z.optional(z.nullable(z.string())).check(
      z.meta({
        description:
          'RTP streams: the SRTP master key and salt (30 bytes, base64: ffmpeg `-srtp_out_params`, SDES `inline:`); ' +
          'null when the stream sends plain RTP.',
      }),
    ),
    srtpSuite: z.optional(z.literal('AES_CM_128_HMAC_SHA1_80')),
    rtpUrl: z.optional(
      z
        .string()
        .check(z.meta({ description: 'RTP streams: where to send, `rtp://host:port` (SRTP or plain).' })),
    ),
    sdp: z.optional(
      z.string().check(
        z.meta({
          description:
            'RTP `h264`/`hevc` streams: the SDP the encoder should use (video PT 96, AAC PT 97, both to the RTP ' +
            'port; carries the SRTP key as `a=crypto`). Absent for `mp2t`, which needs none.',
        }),
      ),
    ),
    ffmpeg: z.optional(
      z
        .string()
        .check(z.meta({ description: 'RTP streams: a ready ffmpeg command (a test pattern and a tone).' })),
    ),
  }),
);

export const StreamWithCredentials = z.once(() =>
  z.object({
    stream: StreamView(),
    credentials: z.optional(
      Credentials().check(
        z.meta({
          description:
            'Shown once: store it; it cannot be read back. Absent on a clientToken replay (200), rotated since or not.',
        }),
      ),
    ),
  }),
);
export const StreamResponse = z.once(() => z.object({ stream: StreamView() }));
export const StreamList = z.once(() =>
  z.object({ streams: z.array(StreamView()), nextCursor: z.optional(z.string()) }),
);
export const DisconnectResponse = z.once(() => z.object({ streamId: z.string(), tasksNotified: z.int() }));
export const RestartResponse = DisconnectResponse;
export const InvalidationResponse = z.once(() =>
  z.object({
    invalidationId: z.string(),
    status: z.string(),
    paths: z.array(z.string()),
  }),
);

export const IngestView = z.once(() =>
  z.object({
    tasks: z.array(z.object(taskLoadShape())),
    totals: z.object({ capacity: z.number(), streams: z.number() }),
    service: z
      .nullable(
        z.object({
          desiredCount: z.int(),
          runningCount: z.int(),
          pendingCount: z.int(),
          minTasks: z.int(),
          maxTasks: z.int(),
        }),
      )
      .check(z.meta({ description: 'The ECS service; null where there is none (the embedded default).' })),
  }),
);
export const ScaleResponse = z.once(() =>
  z.object({ desiredCount: z.int(), minTasks: z.int(), maxTasks: z.int() }),
);
export const AuditList = z.once(() =>
  z.object({
    entries: z.array(
      z.object({
        id: z.string(),
        who: z.string(),
        action: z.string(),
        target: z.string(),
        status: z.int(),
        at: z.string(),
      }),
    ),
  }),
);
export const ErrorBody = z.once(() =>
  z.object({
    error: z.string(),
    field: z.optional(z.string()).check(z.meta({ description: 'The request field at fault.' })),
    message: z.string(),
  }),
);

export const ViewerTokenBody = z.once(() =>
  z.strictObject({
    streams: z
      .union([z.literal('*'), z.array(StreamId).check(z.minLength(1), z.maxLength(MAX_ENTITLED_STREAMS))])
      .check(
        z.meta({ description: 'The stream ids the viewer may see and open, or `"*"` for every stream.' }),
      ),
    ttlSeconds: z
      .int()
      .check(
        z.minimum(1),
        z.maximum(MAX_ENTITLEMENT_TTL_S),
        z.meta({ description: 'Lifetime of the token.' }),
      ),
    subject: z
      .optional(z.string().check(z.minLength(1), z.maxLength(200)))
      .check(z.meta({ description: 'Whom the token is for (`sub`); the calling operator when absent.' })),
  }),
);
export const ViewerTokenResponse = z.once(() =>
  z.object({
    token: z
      .string()
      .check(z.meta({ description: 'The entitlement (a JWT, EdDSA): send it as `X-Mirror-Entitlement`.' })),
    expiresAt: z.string(),
    subject: z.string(),
  }),
);
