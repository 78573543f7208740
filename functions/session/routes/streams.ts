import { type AnyRoute, ApiError, route } from '../../../core/api/router.js';
import { ENTITLEMENT_HEADER, type Entitlement, mayWatch } from '../../../core/auth/entitlement.js';
import { STREAM_LIST_PATH } from '../../../core/contracts/api-paths.js';
import { dvrPath } from '../../../core/contracts/names.js';
import { ENTITLED_STREAM_LIST_PATH, STREAM_LIST_TTL_SECONDS } from '../../../core/contracts/stream-list.js';
import { jsonResponse } from '../../../core/http.js';
import { ladderFor } from '../../../core/ladder.js';
import type { SessionContext } from '../context.js';
import * as S from '../schemas.js';

/** A page of the streams `entitlement` (none: the public ones) may watch, live ones first. */
async function watchable(
  { registry }: SessionContext,
  cursor: string | undefined,
  entitlement?: Entitlement,
) {
  const page = await registry.list(100, cursor);
  // Filtered after paging: a page may come out short (or empty) with a nextCursor, which clients follow anyway.
  const records = page.streams.filter((s) => mayWatch(s, entitlement));
  const statuses = await registry.statuses(records.map((s) => s.id));
  const streams = records
    .map((s, i) => ({
      id: s.id,
      name: s.name,
      // A paused stream publishes its slate (decision D32): still on air for a viewer.
      live: statuses[i]?.state === 'live' || statuses[i]?.state === 'paused',
      renditions: statuses[i]?.renditions ?? ladderFor(s.ladder).map((r) => r.name),
      ...(statuses[i]?.thumbnailUrl ? { thumbnailUrl: statuses[i]?.thumbnailUrl } : {}),
      ...(statuses[i]?.state === 'live' || statuses[i]?.state === 'paused' ? { dvrUrl: dvrPath(s.id) } : {}),
    }))
    .sort((a, b) => Number(b.live) - Number(a.live));
  return { streams, nextCursor: page.nextCursor };
}

/** The streams anyone can put in a tile: the public ones. */
export function publicStreamsRoute(context: SessionContext): AnyRoute {
  return route({
    method: 'GET',
    path: STREAM_LIST_PATH,
    operationId: 'listPublicStreams',
    summary: 'Public streams a viewer can pick, live ones first',
    query: S.PublicStreamsQuery,
    response: { status: 200, description: 'Streams', schema: S.PublicStreams },
    // The same for every viewer (nothing here depends on who asks, the entitlement header included): the edge
    // keeps it for a moment (D27).
    handle: async ({ query }) =>
      jsonResponse(200, await watchable(context, query.cursor), {
        'cache-control': `public, max-age=${STREAM_LIST_TTL_SECONDS}`,
      }),
  });
}

/** The public streams and the private ones the viewer's entitlement names (decision D36); never cached. */
export function entitledStreamsRoute(context: SessionContext): AnyRoute {
  return route({
    method: 'GET',
    path: ENTITLED_STREAM_LIST_PATH,
    operationId: 'listEntitledStreams',
    summary: 'Public streams and those the entitlement names, live ones first',
    query: S.PublicStreamsQuery,
    response: { status: 200, description: 'Streams', schema: S.PublicStreams },
    errors: [401],
    handle: async ({ query, request }) => {
      const entitlement = await context.entitlementOf(request);
      if (!entitlement) {
        throw new ApiError(401, 'unauthorized', `${ENTITLEMENT_HEADER} is required`, ENTITLEMENT_HEADER);
      }
      return jsonResponse(200, await watchable(context, query.cursor, entitlement), {
        'cache-control': 'private, no-store',
      });
    },
  });
}
