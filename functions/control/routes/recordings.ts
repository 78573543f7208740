import { type AnyRoute, ApiError, route } from '../../../core/api/router.js';
import { parseRecordingId, recordingKeys } from '../../../core/contracts/names.js';
import { jsonResponse } from '../../../core/http.js';
import {
  countedObjectNames,
  RECORDING_STATUSES,
  RecordingEntry,
  recordingIndexKeys,
  settledEntry,
} from '../../../core/recordings/entry.js';
import type { RedisPort as Redis } from '../../../core/resp/port.js';
import * as z from '../../../core/zod.js';
import { type ControlContext, notConfigured } from '../context.js';
import type { EdgeInvalidation } from '../ports.js';
import * as S from '../schemas.js';

/** The recordings' media objects (decision D40): read their playlists, delete them. */
export interface RecordingObjects {
  get(key: string): Promise<Uint8Array | undefined>;
  delete(keys: readonly string[]): Promise<void>;
}

// Memoised factories (decision D48), held uncalled by the route specs like functions/control/schemas.ts.
const RecordingIdParam = z.once(() =>
  z.string().check(
    z.maxLength(100),
    z.refine((id) => parseRecordingId(id) !== undefined, 'must be a recording id ({streamId}-{broadcast})'),
    z.meta({ description: 'Recording id: the stream id and the broadcast id joined by a dash.' }),
  ),
);

const recordingView = z.once(() =>
  z.object({
    id: z.string(),
    streamId: z.string(),
    start: z.string().check(z.meta({ description: 'ISO 8601 start of the broadcast' })),
    end: z.nullable(z.string()),
    durationS: z.number(),
    bytes: z.number(),
    renditions: z.array(z.string()),
    status: z.enum(RECORDING_STATUSES),
    playbackUrl: z.nullable(
      z.string().check(z.meta({ description: 'Multivariant VOD playlist path, once ended' })),
    ),
  }),
);
const RecordingList = z.once(() =>
  z.object({ recordings: z.array(recordingView()), nextCursor: z.nullable(z.string()) }),
);
const RecordingResponse = z.once(() => z.object({ recording: recordingView() }));
const DeletedRecording = z.once(() =>
  z.object({
    id: z.string(),
    deletedObjects: z.number(),
    invalidationId: z.nullable(z.string()),
  }),
);

function view(e: RecordingEntry): z.infer<ReturnType<typeof recordingView>> {
  return {
    id: e.id,
    streamId: e.streamId,
    start: new Date(e.start).toISOString(),
    end: e.end === undefined ? null : new Date(e.end).toISOString(),
    durationS: e.durationS,
    bytes: e.bytes,
    renditions: e.renditions,
    status: e.status,
    playbackUrl: e.playbackPath ?? null,
  };
}

async function entryOf(redis: Redis, id: string): Promise<RecordingEntry> {
  const [raw, alive] = await redis.mget(recordingIndexKeys.entry(id), recordingIndexKeys.alive(id));
  if (raw === null || raw === undefined)
    throw new ApiError(404, 'not_found', `no recording ${id}`, 'recordingId');
  return settledEntry(RecordingEntry.parse(JSON.parse(raw)), alive !== null && alive !== undefined);
}

/**
 * Entries of one page as readers see them: one still `recording` whose recorder stopped renewing its alive key
 * ended `failed` (D40, amended). The alive keys are read only for those (at most one page of them).
 */
async function settledEntries(redis: Redis, raws: readonly (string | null)[]): Promise<RecordingEntry[]> {
  const entries = raws.flatMap((raw) => (raw === null ? [] : [RecordingEntry.parse(JSON.parse(raw))]));
  const open = entries.filter((e) => e.status === 'recording');
  const alive = open.length === 0 ? [] : await redis.mget(open.map((e) => recordingIndexKeys.alive(e.id)));
  const living = new Set(open.filter((_, i) => alive[i] !== null && alive[i] !== undefined).map((e) => e.id));
  return entries.map((e) => settledEntry(e, living.has(e.id)));
}

/** Every object key of a complete recording, read from its playlists (they list each chunk and init segment). */
async function objectKeys(objects: RecordingObjects, e: RecordingEntry): Promise<string[]> {
  const keys = [recordingKeys.multivariant(e.streamId, e.broadcast)];
  for (const rendition of e.renditions) {
    const playlistKey = recordingKeys.playlist(e.streamId, rendition, e.broadcast);
    const folder = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
    keys.push(playlistKey);
    const text = new TextDecoder().decode((await objects.get(playlistKey)) ?? new Uint8Array());
    for (const line of text.split('\n')) {
      const map = /^#EXT-X-MAP:URI="([^"/]+)"/.exec(line);
      if (map !== null) keys.push(folder + map[1]);
      else if (line !== '' && !line.startsWith('#') && !line.includes('/')) keys.push(folder + line.trim());
    }
  }
  // A recording whose recorder died has no playlists: its entry counts the objects stored (D40, amended). A
  // complete one's playlists name them all; its count would only add the keys one past the end.
  for (const { rendition, names } of e.status === 'complete' ? [] : countedObjectNames(e)) {
    const playlistKey = recordingKeys.playlist(e.streamId, rendition, e.broadcast);
    const folder = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
    keys.push(...names.map((name) => folder + name));
  }
  return [...new Set(keys)];
}

/** Recordings of broadcasts (decision D40): list a stream's, read one, delete one (objects, index, edge copies). */
export function recordingRoutes(
  { auditedRoute }: ControlContext,
  redis: Redis,
  objects: RecordingObjects | undefined,
  edge: EdgeInvalidation | undefined,
): AnyRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/control/streams/{streamId}/recordings',
      operationId: 'listRecordings',
      summary: 'List a stream’s recordings, newest first, paginated',
      params: S.StreamPathParams,
      query: S.ListQuery,
      response: { status: 200, description: 'A page of recordings', schema: RecordingList },
      handle: async ({ params, query }) => {
        // The cursor is the last listed start (ms): scores below it come next.
        const before = query.cursor === undefined ? '+inf' : `(${Number.parseInt(query.cursor, 10)}`;
        if (query.cursor !== undefined && !/^\d{1,15}$/.test(query.cursor)) {
          throw new ApiError(400, 'invalid_request', 'must be a cursor from a previous page', 'cursor');
        }
        const ids = await redis.zrevrangebyscore(
          recordingIndexKeys.byStream(params.streamId),
          before,
          '-inf',
          'LIMIT',
          0,
          query.limit + 1,
        );
        const page = ids.slice(0, query.limit);
        const raws =
          page.length === 0 ? [] : await redis.mget(page.map((id) => recordingIndexKeys.entry(id)));
        // An id whose entry expired is skipped: the sorted set is trimmed lazily.
        const entries = await settledEntries(redis, raws);
        const last = entries.at(-1);
        const nextCursor = ids.length > query.limit && last !== undefined ? String(last.start) : null;
        return jsonResponse(200, { recordings: entries.map(view), nextCursor });
      },
    }),
    route({
      method: 'GET',
      path: '/api/control/recordings/{recordingId}',
      operationId: 'getRecording',
      summary: 'Read one recording',
      params: { recordingId: RecordingIdParam },
      response: { status: 200, description: 'The recording', schema: RecordingResponse },
      errors: [404],
      handle: async ({ params }) =>
        jsonResponse(200, { recording: view(await entryOf(redis, params.recordingId)) }),
    }),
    auditedRoute({
      method: 'DELETE',
      path: '/api/control/recordings/{recordingId}',
      operationId: 'deleteRecording',
      summary: 'Delete a recording: its objects, its index entry and its copies cached at the edge',
      params: { recordingId: RecordingIdParam },
      response: { status: 200, description: 'Deleted', schema: DeletedRecording },
      errors: [404, 409],
      target: ({ params }) => params.recordingId,
      handle: async ({ params }) => {
        const entry = await entryOf(redis, params.recordingId);
        if (entry.status === 'recording') {
          throw new ApiError(409, 'conflict', 'the broadcast is still being recorded', 'recordingId');
        }
        if (!objects) throw notConfigured('no recording storage is configured here', 'recordingId');
        const keys = await objectKeys(objects, entry);
        await objects.delete(keys);
        await redis
          .multi()
          .zrem(recordingIndexKeys.byStream(entry.streamId), entry.id)
          .del(recordingIndexKeys.entry(entry.id))
          .exec();
        // One wildcard per rendition folder and the multivariant: what an edge may have cached of it.
        const paths = [
          `/${recordingKeys.multivariant(entry.streamId, entry.broadcast)}`,
          ...entry.renditions.map((r) => `/${entry.streamId}/${r}/${entry.broadcast}/rec*`),
        ];
        const invalidation = edge === undefined ? undefined : await edge.invalidate(paths);
        return jsonResponse(200, {
          id: entry.id,
          deletedObjects: keys.length,
          invalidationId: invalidation?.invalidationId ?? null,
        });
      },
    }),
  ];
}
