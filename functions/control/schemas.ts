import { z } from 'zod';
import { DEFAULT_LADDER, LadderPreset } from '../../core/ladder.js';
import { STORAGE_STATES } from '../../core/media/rendition-sink.js';
import { KeyLength, LatencyProfile, StreamId } from '../../core/streams/schema.js';
import { INPUT_REPORT_SHAPE, TASK_LOAD_SHAPE } from '../../core/streams/status.js';

/** Request and response schemas of the control API: validation and the OpenAPI document both come from here. */

export const StreamIdParam = StreamId.meta({ description: 'Stream id (lowercase slug).' });
/** The path parameters of the routes under `/api/control/streams/{streamId}`. */
export const StreamPathParams = { streamId: StreamIdParam };

export const CreateStreamBody = z.strictObject({
  id: StreamId.optional().meta({ description: 'Stream id; derived from the name when absent.' }),
  name: z.string().trim().min(1).max(200),
  ladder: LadderPreset.default(DEFAULT_LADDER),
  latency: LatencyProfile.default('low'),
  encrypted: z.boolean().default(true).meta({ description: 'Generate an SRT AES passphrase.' }),
  keyLength: KeyLength.default(16),
  clientToken: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be 8-64 letters, digits, dots, dashes or underscores')
    .optional()
    .meta({ description: 'Idempotency token: repeating a create with it returns the same stream.' }),
});

export const UpdateStreamBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    ladder: LadderPreset.optional(),
    latency: LatencyProfile.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'name at least one of name, ladder, latency' });

export const RotateBody = z
  .strictObject({
    publishKey: z.boolean().default(true),
    passphrase: z.boolean().default(true),
    disconnect: z.boolean().default(false).meta({ description: 'Also drop the current publisher.' }),
  })
  .refine((v) => v.publishKey || v.passphrase, {
    message: 'rotate at least one of publishKey, passphrase',
    path: ['publishKey'],
  });

export const DisconnectBody = z.strictObject({
  reason: z.string().min(1).max(200).default('disconnected by operator'),
});

export const ScaleBody = z.strictObject({
  desiredCount: z.int().min(0).max(1000),
});

const Limit = z.coerce.number().int().min(1).max(100);
export const ListQuery = z.strictObject({
  limit: Limit.default(50),
  cursor: z.string().min(1).max(400).optional(),
});
export const AuditQuery = z.strictObject({ limit: Limit.default(50) });

export const StreamStatusSchema = z.object({
  state: z.enum(['live', 'idle', 'error']),
  taskId: z.string().optional(),
  broadcast: z
    .string()
    .optional()
    .meta({
      description:
        'Id of the current (or last) broadcast, one per encoder connection: the folder of its media objects, ' +
        '`/{streamId}/{rendition}/{broadcast}/`.',
    }),
  input: z.object(INPUT_REPORT_SHAPE).optional(),
  srt: z.object({ rttMs: z.number().optional(), lossPercent: z.number().optional() }).optional(),
  renditions: z.array(z.string()),
  storage: z
    .object({
      state: z.enum(STORAGE_STATES),
      renditions: z.array(
        z.object({
          rendition: z.string(),
          state: z.enum(STORAGE_STATES),
          failedWrites: z.int(),
          lostParts: z.int(),
          lastError: z.string().optional(),
        }),
      ),
    })
    .optional()
    .meta({
      description:
        'Whether the renditions can store and publish: `init-failed` while a rendition publishes nothing (its init ' +
        'segment is not stored; retried), `degraded` while one recovers from a lost write. `state` stays `live` ' +
        'meanwhile: the encoder is connected.',
    }),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
  updatedAt: z.string().optional(),
});

export const StreamView = z.object({
  id: z.string(),
  name: z.string(),
  ladder: LadderPreset,
  latency: LatencyProfile,
  encrypted: z.boolean(),
  keyLength: KeyLength,
  createdAt: z.string(),
  updatedAt: z.string(),
  status: StreamStatusSchema,
  viewers: z.int(),
});

export const Credentials = z.object({
  publishKey: z.string(),
  passphrase: z.string().nullable(),
  keyLength: KeyLength,
  srtUrl: z.string().meta({ description: 'SRT caller URL with the standard #!:: streamid.' }),
  srtPlainKeyUrl: z.string().meta({ description: 'The same with the plain publish key as streamid.' }),
});

export const StreamWithCredentials = z.object({
  stream: StreamView,
  credentials: Credentials.meta({ description: 'Shown once: store it; it cannot be read back.' }),
});
export const StreamResponse = z.object({ stream: StreamView });
export const StreamList = z.object({ streams: z.array(StreamView), nextCursor: z.string().optional() });
export const DisconnectResponse = z.object({ streamId: z.string(), tasksNotified: z.int() });
export const InvalidationResponse = z.object({
  invalidationId: z.string(),
  status: z.string(),
  paths: z.array(z.string()),
});

export const TaskView = z.object(TASK_LOAD_SHAPE);
export const IngestView = z.object({
  tasks: z.array(TaskView),
  totals: z.object({ capacity: z.number(), streams: z.number() }),
  service: z
    .object({
      desiredCount: z.int(),
      runningCount: z.int(),
      pendingCount: z.int(),
      minTasks: z.int(),
      maxTasks: z.int(),
    })
    .nullable()
    .meta({ description: 'The ECS service; null where there is none (the embedded default).' }),
});
export const ScaleResponse = z.object({ desiredCount: z.int(), minTasks: z.int(), maxTasks: z.int() });
export const AuditList = z.object({
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
});
export const ErrorBody = z.object({
  error: z.string(),
  field: z.string().optional().meta({ description: 'The request field at fault.' }),
  message: z.string(),
});
