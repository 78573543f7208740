import { z } from 'zod';
import { STORAGE_STATES } from '../media/rendition-sink.js';

/**
 * Live ingest status of one stream, written by the ingest task that holds the publisher lease to
 * `mirror:status:{id}` (JSON, short TTL, refreshed about once a second) and read by the control API.
 * Every field is optional so a partial report (for example before the first keyframe) still parses.
 */
/** What the ingest saw of the encoder's stream; shared with the control API's response schema. */
export const INPUT_REPORT_SHAPE = {
  codec: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  fps: z.number().optional(),
  bitrateKbps: z.number().optional(),
};

/**
 * Whether the stream's renditions can store and publish (decision D21): the worst rendition's state (`init-failed`
 * means a rendition publishes nothing until its init segment is stored), and each rendition's figures.
 */
export const STORAGE_REPORT_SHAPE = {
  state: z.enum(STORAGE_STATES).optional(),
  renditions: z
    .array(
      z.looseObject({
        rendition: z.string(),
        state: z.enum(STORAGE_STATES),
        failedWrites: z.number(),
        lostParts: z.number(),
        pendingSegments: z.number().optional(),
        folder: z.string().optional(),
        lastError: z.string().optional(),
      }),
    )
    .optional(),
};

export const IngestStatus = z.looseObject({
  state: z.enum(['live', 'idle', 'error']).optional(),
  /** Ingest task id holding the lease. */
  taskId: z.string().optional(),
  /** The current broadcast: the folder of the media being written (decision D16). */
  broadcast: z.string().optional(),
  input: z.looseObject(INPUT_REPORT_SHAPE).optional(),
  srt: z
    .looseObject({
      rttMs: z.number().optional(),
      /** Packets lost over packets received, percent, over the last report interval. */
      lossPercent: z.number().optional(),
      retransmitted: z.number().optional(),
      dropped: z.number().optional(),
    })
    .optional(),
  /** Rendition names currently produced (from the ladder). */
  renditions: z.array(z.string()).optional(),
  storage: z.looseObject(STORAGE_REPORT_SHAPE).optional(),
  /** Ingest-to-part latency measured by the packager, ms. */
  latencyMs: z.number().optional(),
  error: z.string().optional(),
  /** ISO time of the report. */
  updatedAt: z.string().optional(),
});
export type IngestStatus = z.infer<typeof IngestStatus>;

/** A task's capacity and load; shared with the control API's response schema. */
export const TASK_LOAD_SHAPE = {
  taskId: z.string(),
  /** Streams this task can take (NVENC sessions or CPU budget). */
  capacity: z.number().optional(),
  /** Streams being published to this task now. */
  streams: z.number().optional(),
  cpuPercent: z.number().optional(),
  gpu: z.boolean().optional(),
  updatedAt: z.string().optional(),
};

/** Capacity and load report of one ingest task, at `mirror:task:{id}` and scored in `mirror:tasks`. */
export const TaskReport = z.looseObject({ ...TASK_LOAD_SHAPE, address: z.string().optional() });
export type TaskReport = z.infer<typeof TaskReport>;
