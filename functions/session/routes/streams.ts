import { type AnyRoute, route } from '../../../core/api/router.js';
import { STREAM_LIST_PATH } from '../../../core/contracts/api-paths.js';
import { STREAM_LIST_TTL_SECONDS } from '../../../core/contracts/stream-list.js';
import { jsonResponse } from '../../../core/http.js';
import { ladderFor } from '../../../core/ladder.js';
import type { SessionContext } from '../context.js';
import * as S from '../schemas.js';

/** The streams a viewer can put in a tile. */
export function publicStreamsRoute({ registry }: SessionContext): AnyRoute {
  return route({
    method: 'GET',
    path: STREAM_LIST_PATH,
    operationId: 'listPublicStreams',
    summary: 'Streams a viewer can pick, live ones first',
    query: S.PublicStreamsQuery,
    response: { status: 200, description: 'Streams', schema: S.PublicStreams },
    handle: async ({ query }) => {
      const page = await registry.list(100, query.cursor);
      const statuses = await registry.statuses(page.streams.map((s) => s.id));
      const streams = page.streams
        .map((s, i) => ({
          id: s.id,
          name: s.name,
          // A paused stream publishes its slate (decision D32): still on air for a viewer.
          live: statuses[i]?.state === 'live' || statuses[i]?.state === 'paused',
          renditions: statuses[i]?.renditions ?? ladderFor(s.ladder).map((r) => r.name),
        }))
        .sort((a, b) => Number(b.live) - Number(a.live));
      // The same for every viewer (nothing here depends on who asks): the edge keeps it for a moment (D27).
      return jsonResponse(
        200,
        { streams, nextCursor: page.nextCursor },
        { 'cache-control': `public, max-age=${STREAM_LIST_TTL_SECONDS}` },
      );
    },
  });
}
