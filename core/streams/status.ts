import { inputStatsShape } from '../media/av-stats.js';
import { STORAGE_STATES } from '../media/rendition-sink.js';
import * as z from '../zod.js';

/**
 * Live ingest status of one stream, written by the ingest task that holds the publisher lease to
 * `mirror:status:{id}` (JSON, short TTL, refreshed about once a second) and read by the control API.
 * Every field is optional so a partial report (for example before the first keyframe) still parses.
 */
/**
 * What the ingest saw of the encoder's stream; shared with the control API's response schema. The shapes and schemas
 * here are built on first use (decision D48): the control function reads a status only on a stream's routes.
 */
export const inputReportShape = z.once(() => ({
  codec: z.optional(z.string()),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  fps: z.optional(z.number()),
  bitrateKbps: z.optional(z.number()),
  /** A/V sync, GOP, timing, continuity and queue figures of the input (decision D42). */
  stats: z.optional(z.object(inputStatsShape())),
}));

/**
 * Whether the stream's renditions can store and publish (decision D21): the worst rendition's state (`init-failed`
 * means a rendition publishes nothing until its init segment is stored), and each rendition's figures.
 */
const storageReportShape = () => ({
  state: z.optional(z.enum(STORAGE_STATES)),
  renditions: z.optional(
    z.array(
      z.looseObject({
        rendition: z.string(),
        state: z.enum(STORAGE_STATES),
        failedWrites: z.number(),
        lostParts: z.number(),
        pendingSegments: z.optional(z.number()),
        folder: z.optional(z.string()),
        lastError: z.optional(z.string()),
      }),
    ),
  ),
});

export const IngestStatus = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    /** `paused`: the encoder is connected and viewers get the slate (decision D32). */
    state: z.optional(z.enum(['live', 'paused', 'idle', 'error'])),
    /** Ingest task id holding the lease. */
    taskId: z.optional(z.string()),
    /** The current broadcast: the folder of the media being written (decision D16). */
    broadcast: z.optional(z.string()),
    input: z.optional(z.looseObject(inputReportShape())),
    srt: z.optional(
      z.looseObject({
        rttMs: z.optional(z.number()),
        /** Packets lost over packets received, percent, over the last report interval. */
        lossPercent: z.optional(z.number()),
        retransmitted: z.optional(z.number()),
        dropped: z.optional(z.number()),
      }),
    ),
    /** The publisher's contribution protocol (issue 15, decision D45); absent while nobody publishes. */
    protocol: z.optional(z.enum(['srt', 'rtp'])),
    /** An RTP publisher's reception figures as RFC 3550 defines them (decision D45). */
    rtp: z.optional(
      z.looseObject({
        ssrc: z.optional(z.number()),
        srtp: z.optional(z.boolean()),
        /** Cumulative packets lost. */
        lost: z.optional(z.number()),
        /** Lost over expected in the last receiver-report interval, 0..1. */
        fractionLost: z.optional(z.number()),
        /** Interarrival jitter, ms. */
        jitterMs: z.optional(z.number()),
        reordered: z.optional(z.number()),
        packetsReceived: z.optional(z.number()),
        /** Packets that came after the reorder buffer gave their place up: dropped. */
        late: z.optional(z.number()),
        /** Packets with the stream's SSRC that failed SRTP authentication: dropped, never decoded. */
        authFailures: z.optional(z.number()),
        /** Refused by SRTP's replay window (duplicates, or later than 64 packets). */
        replays: z.optional(z.number()),
        /** Payloads that were not whole TS packets. */
        malformed: z.optional(z.number()),
        /** Other sources that authenticated for the stream while it was live: refused (one publisher per stream). */
        refusedSources: z.optional(z.number()),
      }),
    ),
    /** Rendition names currently produced (from the ladder). */
    renditions: z.optional(z.array(z.string())),
    storage: z.optional(z.looseObject(storageReportShape())),
    /**
     * The stream's last published part: its publish in the live state minus the arrival of its last byte from ffmpeg
     * at the packager, ms (the PartPublishLatencyMs metric's value, highest rendition of the last report interval).
     */
    latencyMs: z.optional(z.number()),
    /** URL path of the stream's latest picture, a 320 px JPEG refreshed every second (decision D41). */
    thumbnailUrl: z.optional(z.string()),
    error: z.optional(z.string()),
    /** ISO time of the report. */
    updatedAt: z.optional(z.string()),
  }),
);
export type IngestStatus = z.infer<typeof IngestStatus>;

/** A task's capacity and load; shared with the control API's response schema. */
export const taskLoadShape = z.once(() => ({
  taskId: z.string(),
  /** Streams this task can take (NVENC sessions or CPU budget). */
  capacity: z.optional(z.number()),
  /** Streams being published to this task now. */
  streams: z.optional(z.number()),
  cpuPercent: z.optional(z.number()),
  gpu: z.optional(z.boolean()),
  updatedAt: z.optional(z.string()),
}));

/** Capacity and load report of one ingest task, at `mirror:task:{id}` and scored in `mirror:tasks`. */
export const TaskReport = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({ ...taskLoadShape(), address: z.optional(z.string()) }),
);
export type TaskReport = z.infer<typeof TaskReport>;
