import type { SessionRecord } from '../../core/adapters/sessions/store.js';
import type { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { ApiError } from '../../core/api/router.js';
import { ENTITLEMENT_HEADER, type Entitlement, mayWatch } from '../../core/auth/entitlement.js';
import { ladderFor } from '../../core/ladder.js';
import { type AllocTile, allocate, toAllocRungs } from '../../core/sessions/allocate.js';
import { type Layout, tileCount } from '../../core/sessions/layouts.js';
import type { StreamRecord } from '../../core/streams/schema.js';

/** A session with a fresh allocation, and the bandwidth budget the allocator worked with. */
export interface Allocated {
  readonly session: SessionRecord;
  readonly budget: number;
}

export interface SessionAllocation {
  /**
   * Tiles must name existing streams the viewer may watch (public, or private and entitled; decision D36) and fit
   * the layout (errors name the field); padded to the layout. Streams in `admitted` (already in the session) pass
   * as they are: a PATCH of the focus must not fail on a stream made private since it was opened.
   */
  checkTiles(
    layout: Layout,
    tiles: readonly (string | null)[],
    field: string,
    entitlement: Entitlement | undefined,
    admitted?: readonly (string | null)[],
  ): Promise<(string | null)[]>;
  /** The focused tile must be in the layout. */
  checkFocus(layout: Layout, focus: number | null, field?: string): number | null;
  /** Re-runs the allocator; `keepPrevious` is false when tiles, layout or focus changed (a user action). */
  reallocate(session: SessionRecord, keepPrevious: boolean): Promise<Allocated>;
}

/** Which rendition each tile plays: the session's streams as the registry and the ingest report them. */
export function sessionAllocation(registry: StreamRegistry, now: () => number): SessionAllocation {
  const streamsById = async (ids: readonly (string | null)[]) => {
    const unique = [...new Set(ids.filter((id): id is string => id !== null))];
    const [records, statuses] = await Promise.all([registry.getMany(unique), registry.statuses(unique)]);
    const map = new Map<string, { record: StreamRecord; sourceKbps?: number }>();
    unique.forEach((id, i) => {
      const record = records[i];
      if (record) map.set(id, { record, sourceKbps: statuses[i]?.input?.bitrateKbps });
    });
    return map;
  };

  return {
    async checkTiles(layout, tiles, field, entitlement, admitted = []) {
      const count = tileCount(layout);
      if (tiles.length > count) {
        throw new ApiError(
          400,
          'invalid_request',
          `${field}: layout ${layout} has ${count} tiles, got ${tiles.length}`,
          field,
        );
      }
      const known = await streamsById(tiles);
      tiles.forEach((id, i) => {
        if (id !== null && !known.has(id)) {
          throw new ApiError(404, 'not_found', `${field}.${i}: stream ${id} does not exist`, `${field}.${i}`);
        }
        const record = id === null ? undefined : known.get(id)?.record;
        if (record && !admitted.includes(record.id) && !mayWatch(record, entitlement)) {
          throw new ApiError(
            403,
            'forbidden',
            `${field}.${i}: stream ${record.id} is private: an entitlement for it is required (${ENTITLEMENT_HEADER})`,
            `${field}.${i}`,
          );
        }
      });
      return [...tiles, ...Array<null>(count - tiles.length).fill(null)];
    },

    checkFocus(layout, focus, field = 'focus') {
      if (focus !== null && focus >= tileCount(layout)) {
        throw new ApiError(400, 'invalid_request', `${field}: layout ${layout} has no tile ${focus}`, field);
      }
      return focus;
    },

    async reallocate(session, keepPrevious) {
      const streams = await streamsById(session.tiles);
      const tiles: AllocTile[] = session.tiles.map((id, i) => {
        const stream = id === null ? undefined : streams.get(id);
        const size = session.tileSizes[i] ?? { widthPx: 0, heightPx: 0 };
        return {
          streamId: stream ? id : null,
          // With each rung's part target: a `wall` stream's focused tile plays a short-part rung (decision D28).
          rungs: stream
            ? toAllocRungs(ladderFor(stream.record.ladder), stream.sourceKbps, stream.record.latencyProfile)
            : [],
          widthPx: size.widthPx,
          heightPx: size.heightPx,
          struggling: session.struggling?.[i] ?? false,
        };
      });
      const result = allocate({
        bandwidthKbps: session.bandwidthKbps,
        tiles,
        focus: session.focus,
        previous: keepPrevious ? session.allocation : undefined,
        nowMs: now(),
      });
      return {
        session: {
          ...session,
          allocation: { renditions: [...result.renditions], changedAtMs: result.changedAtMs },
        },
        budget: result.budgetKbps,
      };
    },
  };
}
