import type { SessionRecord } from '../../../core/adapters/sessions/store.js';
import { type AnyRoute, ApiError, type RouteSpec, route } from '../../../core/api/router.js';
import type { Entitlement } from '../../../core/auth/entitlement.js';
import { defaultFocus, tileCount } from '../../../core/sessions/layouts.js';
import type * as z from '../../../core/zod.js';
import type { Allocated } from '../allocation.js';
import type { SessionContext } from '../context.js';
import * as S from '../schemas.js';
import { SESSION_CALL_ERRORS } from './sessions.js';

/** A tile dropping more than this share of its frames is struggling: held at the tile rung, even focused. */
const STRUGGLING_DROP_RATIO = 0.1;

/** The calls that change a session: a viewer's action (PATCH) and a player's report (heartbeat). */
export function updateRoutes(context: SessionContext): AnyRoute[] {
  const { checkTiles, checkFocus, reallocate, renewed } = context;
  return [
    updateRoute(context, {
      method: 'PATCH',
      path: '/api/sessions/{sessionId}',
      operationId: 'updateSession',
      summary: 'Switch the stream in a tile, change the layout or focus a tile',
      body: S.UpdateSessionBody,
      description: 'The session with new renditions',
      entitled: true,
      change: async (before, body, entitlement) => {
        const layout = body.layout ?? before.layout;
        const tiles = await checkTiles(
          layout,
          switchedTiles(before, body),
          body.tiles ? 'tiles' : 'tile.streamId',
          entitlement,
          before.tiles,
        );
        const focus = checkFocus(
          layout,
          body.focus !== undefined
            ? body.focus
            : before.focus !== null && before.focus < tileCount(layout)
              ? before.focus // a layout change keeps the focus where the tile survives
              : defaultFocus(layout),
        );
        const sameShape =
          layout === before.layout && tiles.every((t, i) => t === before.tiles[i]) && focus === before.focus;
        return reallocate(
          renewed({
            ...before,
            layout,
            tiles,
            focus,
            tileSizes: layout === before.layout ? before.tileSizes : [],
            struggling: layout === before.layout ? before.struggling : [],
          }),
          sameShape,
        );
      },
    }),
    updateRoute(context, {
      method: 'POST',
      path: '/api/sessions/{sessionId}/heartbeat',
      operationId: 'heartbeat',
      summary: 'Report bandwidth, tile sizes and dropped frames; answered with each tile’s rendition',
      body: S.HeartbeatBody,
      description: 'Renditions to play',
      change: async (before, body) => {
        if (body.tiles.length !== before.tiles.length) {
          throw new ApiError(
            400,
            'invalid_request',
            `tiles: layout ${before.layout} has ${before.tiles.length} tiles, got ${body.tiles.length}`,
            'tiles',
          );
        }
        const struggling = body.tiles.map(
          (t) =>
            t.decodedFrames + t.droppedFrames > 0 &&
            t.droppedFrames / (t.decodedFrames + t.droppedFrames) > STRUGGLING_DROP_RATIO,
        );
        return reallocate(
          {
            ...renewed(before),
            bandwidthKbps: body.bandwidthKbps,
            tileSizes: body.tiles.map((t) => ({ widthPx: t.widthPx, heightPx: t.heightPx })),
            struggling,
          },
          true,
        );
      },
    }),
  ];
}

/**
 * A route that changes one session through the compare-and-set write path: `change` may run more than once,
 * each time on the latest record. Answers the session as written.
 */
function updateRoute<B>(
  { updated, entitlementOf }: SessionContext,
  spec: Pick<RouteSpec, 'method' | 'path' | 'operationId' | 'summary'> & {
    readonly body: z.ZodMiniType<B>;
    readonly description: string;
    /** Reads the entitlement header (a PATCH can add streams; a heartbeat cannot, so it skips the check). */
    readonly entitled?: boolean;
    readonly change: (before: SessionRecord, body: B, entitlement?: Entitlement) => Promise<Allocated>;
  },
): AnyRoute {
  const { body: schema, description, change, entitled, ...names } = spec;
  return route<B>({
    ...names,
    params: S.SessionPathParams,
    body: schema,
    response: { status: 200, description, schema: S.SessionView },
    errors: SESSION_CALL_ERRORS,
    handle: async ({ request, params, body }) => {
      // Verified once, not per compare-and-set attempt.
      const entitlement = entitled ? await entitlementOf(request) : undefined;
      return updated(request, params.sessionId as string, (before) => change(before, body, entitlement));
    },
  });
}

/** The tiles a PATCH asks for, before they are checked: a new list, or one tile switched. */
function switchedTiles(before: SessionRecord, body: z.infer<typeof S.UpdateSessionBody>): (string | null)[] {
  const layout = body.layout ?? before.layout;
  const tiles = body.tiles ?? before.tiles.slice(0, tileCount(layout));
  if (!body.tile) return tiles;
  if (body.tile.index >= tileCount(layout)) {
    throw new ApiError(
      400,
      'invalid_request',
      `tile.index: layout ${layout} has no tile ${body.tile.index}`,
      'tile.index',
    );
  }
  const switched = [...tiles];
  while (switched.length <= body.tile.index) switched.push(null);
  switched[body.tile.index] = body.tile.streamId;
  return switched;
}
