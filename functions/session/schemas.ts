import { SessionId } from '../../core/adapters/sessions/store.js';
import { LAYOUTS, Layout } from '../../core/sessions/layouts.js';
import { StreamId } from '../../core/streams/schema.js';
import * as z from '../../core/zod.js';

/**
 * Request and response schemas of the session API: validation and the OpenAPI document both come from here. Each is
 * built on first use (decision D48): a `z.lazy` builds its schema on its first parse or JSON Schema, so a cold start
 * builds none of them and a request builds only its route's. The parts several schemas share are `once` factories.
 */

/** The largest layout (5x5) has 25 tiles. */
export const MAX_TILES = 25;

const tileStream = z.once(() =>
  z.nullable(StreamId).check(z.meta({ description: 'Stream in this tile; null leaves it empty.' })),
);
const focus = z.once(() => z.nullable(z.int().check(z.minimum(0), z.maximum(MAX_TILES - 1))));

export const SessionIdParam = SessionId;
/** The path parameters of the routes under `/api/sessions/{sessionId}`. */
export const SessionPathParams = { sessionId: SessionIdParam };

export const CreateSessionBody = z.lazy(() =>
  z.strictObject({
    layout: Layout.check(z.meta({ description: `One of ${LAYOUTS.join(', ')}` })),
    tiles: z.array(tileStream()).check(z.maxLength(MAX_TILES)),
    focus: z
      .optional(focus())
      .check(
        z.meta({ description: 'Focused tile index; defaults to the main tile of 1x1, focus-strip and pip.' }),
      ),
    bandwidthKbps: z
      .optional(z.number().check(z.minimum(0), z.maximum(10_000_000)))
      .check(z.meta({ description: 'Initial bandwidth estimate; the first heartbeat replaces it.' })),
  }),
);

export const UpdateSessionBody = z.lazy(() =>
  z
    .strictObject({
      layout: z.optional(Layout),
      tiles: z.optional(z.array(tileStream()).check(z.maxLength(MAX_TILES))),
      tile: z.optional(
        z.strictObject({
          index: z.int().check(z.minimum(0), z.maximum(MAX_TILES - 1)),
          streamId: tileStream(),
        }),
      ),
      focus: z.optional(focus()),
    })
    .check(
      z.refine((v) => Object.values(v).some((x) => x !== undefined), {
        message: 'give at least one of layout, tiles, tile, focus',
      }),
    ),
);

export const HeartbeatBody = z.lazy(() => {
  const pixels = z.int().check(z.minimum(0), z.maximum(16384));
  const frameCount = z
    ._default(z.int().check(z.minimum(0), z.maximum(1_000_000)), 0)
    .check(z.meta({ description: 'Since the last heartbeat.' }));
  return z.strictObject({
    bandwidthKbps: z
      .number()
      .check(z.minimum(0), z.maximum(10_000_000), z.meta({ description: 'Measured download bandwidth.' })),
    tiles: z
      .array(
        z.strictObject({
          widthPx: pixels.check(z.meta({ description: 'Tile width in device pixels.' })),
          heightPx: pixels,
          droppedFrames: frameCount,
          decodedFrames: frameCount,
        }),
      )
      .check(z.maxLength(MAX_TILES)),
  });
});

export const PublicStreamsQuery = z.lazy(() =>
  z.strictObject({
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(400))),
  }),
);

const tileView = () =>
  z.object({
    index: z.int(),
    streamId: z.nullable(z.string()),
    rect: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
    rendition: z
      .nullable(z.string())
      .check(z.meta({ description: 'Rendition to play; null: nothing fits the budget.' })),
    master: z.nullable(z.string()).check(z.meta({ description: 'Multivariant playlist path.' })),
    dvr: z.nullable(z.string()).check(z.meta({ description: 'DVR multivariant playlist path (D43).' })),
    playlist: z.nullable(z.string()).check(z.meta({ description: 'Media playlist path of the rendition.' })),
  });

/** The session as every session call answers it; a factory because CreatedSession extends the object itself. */
const sessionViewObject = z.once(() =>
  z.object({
    sessionId: z.string(),
    layout: Layout,
    focus: z.nullable(z.int()),
    tiles: z.array(tileView()),
    expiresAt: z.string(),
    heartbeatIntervalMs: z.int().check(
      z.meta({
        description:
          'When to send the next heartbeat: 2 s while the allocation is changing, 30 s once it has settled.',
      }),
    ),
    budgetKbps: z.number(),
    playbackTokens: z.optional(z.record(z.string(), z.string())).check(
      z.meta({
        description:
          'With playback protection on (D37): one playback token per stream of the session, by stream id, valid 90 s and renewed by every answer; each is also set as the cookie `mirror_play` on `Path=/<streamId>/`. Players that cannot send cookies put it in the `token` query parameter.',
      }),
    ),
  }),
);
export const SessionView = z.lazy(sessionViewObject);
export const CreatedSession = z.lazy(() =>
  z.extend(sessionViewObject(), {
    token: z
      .string()
      .check(z.meta({ description: 'Session token: send as `Authorization: Bearer <token>`.' })),
  }),
);
export const PublicStreams = z.lazy(() =>
  z.object({
    streams: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        live: z.boolean(),
        renditions: z.array(z.string()),
        /** The live stream's latest picture, 320 px wide, refreshed every second (decision D41). */
        thumbnailUrl: z.optional(z.string()),
        /** The live stream's DVR multivariant playlist (decision D43). */
        dvrUrl: z.optional(z.string()),
      }),
    ),
    nextCursor: z.optional(z.string()),
  }),
);
