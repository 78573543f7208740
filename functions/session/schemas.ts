import { z } from 'zod';
import { SessionId } from '../../core/adapters/sessions/store.js';
import { LAYOUTS, Layout } from '../../core/sessions/layouts.js';
import { StreamId } from '../../core/streams/schema.js';

/** Request and response schemas of the session API: validation and the OpenAPI document both come from here. */

/** The largest layout (5x5) has 25 tiles. */
export const MAX_TILES = 25;

const TileStream = StreamId.nullable().meta({ description: 'Stream in this tile; null leaves it empty.' });
const Focus = z
  .int()
  .min(0)
  .max(MAX_TILES - 1)
  .nullable();
const Pixels = z.int().min(0).max(16384);

export const SessionIdParam = SessionId;
/** The path parameters of the routes under `/api/sessions/{sessionId}`. */
export const SessionPathParams = { sessionId: SessionIdParam };

export const CreateSessionBody = z.strictObject({
  layout: Layout.meta({ description: `One of ${LAYOUTS.join(', ')}` }),
  tiles: z.array(TileStream).max(MAX_TILES),
  focus: Focus.optional().meta({
    description: 'Focused tile index; defaults to the main tile of 1x1, focus-strip and pip.',
  }),
  bandwidthKbps: z.number().min(0).max(10_000_000).optional().meta({
    description: 'Initial bandwidth estimate; the first heartbeat replaces it.',
  }),
});

export const UpdateSessionBody = z
  .strictObject({
    layout: Layout.optional(),
    tiles: z.array(TileStream).max(MAX_TILES).optional(),
    tile: z
      .strictObject({
        index: z
          .int()
          .min(0)
          .max(MAX_TILES - 1),
        streamId: TileStream,
      })
      .optional(),
    focus: Focus.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: 'give at least one of layout, tiles, tile, focus',
  });

export const HeartbeatBody = z.strictObject({
  bandwidthKbps: z.number().min(0).max(10_000_000).meta({ description: 'Measured download bandwidth.' }),
  tiles: z
    .array(
      z.strictObject({
        widthPx: Pixels.meta({ description: 'Tile width in device pixels.' }),
        heightPx: Pixels,
        droppedFrames: z
          .int()
          .min(0)
          .max(1_000_000)
          .default(0)
          .meta({ description: 'Since the last heartbeat.' }),
        decodedFrames: z
          .int()
          .min(0)
          .max(1_000_000)
          .default(0)
          .meta({ description: 'Since the last heartbeat.' }),
      }),
    )
    .max(MAX_TILES),
});

export const PublicStreamsQuery = z.strictObject({
  cursor: z.string().min(1).max(400).optional(),
});

export const TileView = z.object({
  index: z.int(),
  streamId: z.string().nullable(),
  rect: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  rendition: z.string().nullable().meta({ description: 'Rendition to play; null: nothing fits the budget.' }),
  master: z.string().nullable().meta({ description: 'Multivariant playlist path.' }),
  playlist: z.string().nullable().meta({ description: 'Media playlist path of the rendition.' }),
});

export const SessionView = z.object({
  sessionId: z.string(),
  layout: Layout,
  focus: z.int().nullable(),
  tiles: z.array(TileView),
  expiresAt: z.string(),
  heartbeatIntervalMs: z.int(),
  budgetKbps: z.number(),
  playbackToken: z
    .string()
    .optional()
    .meta({ description: 'When playback protection is on; also set as a cookie.' }),
});
export const CreatedSession = SessionView.extend({
  token: z.string().meta({ description: 'Session token: send as `Authorization: Bearer <token>`.' }),
});
export const PublicStreams = z.object({
  streams: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      live: z.boolean(),
      renditions: z.array(z.string()),
    }),
  ),
  nextCursor: z.string().optional(),
});
