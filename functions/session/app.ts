import type { Logger } from '@aws-lambda-powertools/logger';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { BURST, RATE_PER_SECOND, RateLimiter } from '../../core/adapters/sessions/ratelimit.js';
import {
  HEARTBEAT_INTERVAL_MS,
  MAX_WRITE_ATTEMPTS,
  newSessionId,
  SESSION_TTL_MS,
  SessionError,
  type SessionRecord,
  SessionStore,
} from '../../core/adapters/sessions/store.js';
import { RegistryError, StreamRegistry } from '../../core/adapters/streams/registry.js';
import { buildOpenApi } from '../../core/api/openapi.js';
import { type AnyRoute, ApiError, createRouter, respondError, route } from '../../core/api/router.js';
import { type HttpApp, type HttpResponse, jsonResponse } from '../../core/http.js';
import { ladderFor } from '../../core/ladder.js';
import { type AllocTile, allocate, toAllocRungs } from '../../core/sessions/allocate.js';
import { defaultFocus, type Layout, layoutTiles, tileCount } from '../../core/sessions/layouts.js';
import {
  PLAYBACK_COOKIE,
  signPlaybackToken,
  signSessionToken,
  verifySessionToken,
} from '../../core/sessions/token.js';
import type { StreamRecord } from '../../core/streams/schema.js';
import * as S from './schemas.js';

export interface SessionDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  /** HMAC secret for session and playback tokens (Secrets Manager on AWS). */
  readonly secret: string;
  /** Issue playback tokens (cookie + body) for the edge to check. */
  readonly playbackProtection?: boolean;
  /** Requests per second and burst per IP; the seed's 100/200 by default. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly now?: () => number;
}

/** Extra playback-token lifetime past the session's expiry, so a late heartbeat does not cut playback. */
const PLAYBACK_GRACE_S = 60;
/** Before the first heartbeat: enough for a few tile rungs, never more than a slow connection carries. */
const INITIAL_BANDWIDTH_KBPS = 5000;

export function createSessionApp(deps: SessionDeps): HttpApp & { readonly routes: readonly AnyRoute[] } {
  const now = deps.now ?? Date.now;
  const registry = new StreamRegistry(deps.redis, () => new Date(now()));
  const store = new SessionStore(deps.redis);
  const limiter = new RateLimiter(
    deps.redis,
    deps.rateLimit?.perSecond ?? RATE_PER_SECOND,
    deps.rateLimit?.burst ?? BURST,
  );
  const P = { sessionId: S.SessionIdParam };

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

  /** Tiles must name existing streams and fit the layout; errors name the offending field. */
  const checkTiles = async (layout: Layout, tiles: readonly (string | null)[], field: string) => {
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
    });
    return [...tiles, ...Array<null>(count - tiles.length).fill(null)];
  };

  const checkFocus = (layout: Layout, focus: number | null, field = 'focus') => {
    if (focus !== null && focus >= tileCount(layout)) {
      throw new ApiError(400, 'invalid_request', `${field}: layout ${layout} has no tile ${focus}`, field);
    }
    return focus;
  };

  /** Re-runs the allocator; `keepPrevious` is false when tiles, layout or focus changed (a user action). */
  const reallocate = async (
    session: SessionRecord,
    keepPrevious: boolean,
  ): Promise<{ session: SessionRecord; budget: number }> => {
    const streams = await streamsById(session.tiles);
    const tiles: AllocTile[] = session.tiles.map((id, i) => {
      const stream = id === null ? undefined : streams.get(id);
      const size = session.tileSizes[i] ?? { widthPx: 0, heightPx: 0 };
      return {
        streamId: stream ? id : null,
        rungs: stream ? toAllocRungs(ladderFor(stream.record.ladder), stream.sourceKbps) : [],
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
  };

  const view = (session: SessionRecord, budget: number): z.infer<typeof S.SessionView> => {
    const rects = layoutTiles(session.layout);
    const playbackToken = deps.playbackProtection ? playbackTokenFor(session) : undefined;
    return {
      sessionId: session.id,
      layout: session.layout,
      focus: session.focus,
      tiles: session.tiles.map((streamId, index) => {
        const rendition = session.allocation.renditions[index] ?? null;
        return {
          index,
          streamId,
          rect: rects[index] ?? { x: 0, y: 0, w: 0, h: 0 },
          rendition,
          master: streamId === null ? null : `/${streamId}/master.m3u8`,
          playlist:
            streamId === null || rendition === null ? null : `/${streamId}/${rendition}/playlist.m3u8`,
        };
      }),
      expiresAt: new Date(session.expiresAtMs).toISOString(),
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      budgetKbps: Math.round(budget),
      ...(playbackToken ? { playbackToken } : {}),
    };
  };

  const playbackTokenFor = (session: SessionRecord) =>
    signPlaybackToken(
      deps.secret,
      session.tiles.filter((t): t is string => t !== null),
      Math.floor(session.expiresAtMs / 1000) + PLAYBACK_GRACE_S,
    );

  const respond = (
    status: number,
    session: SessionRecord,
    budget: number,
    extra: Record<string, unknown> = {},
  ): HttpResponse => {
    const body = { ...view(session, budget), ...extra };
    const headers: Record<string, string> = {};
    if (deps.playbackProtection && body.playbackToken) {
      const maxAge = Math.max(0, Math.floor((session.expiresAtMs - now()) / 1000) + PLAYBACK_GRACE_S);
      // Same site as the media (one URL space, decision D2); not readable by scripts.
      headers['set-cookie'] =
        `${PLAYBACK_COOKIE}=${body.playbackToken}; Path=/; Max-Age=${maxAge}; Secure; HttpOnly; SameSite=Lax`;
    }
    return jsonResponse(status, body, headers);
  };

  /** The session named in the path, if the bearer token is for it. */
  const authorized = async (request: { headers: Readonly<Record<string, string>> }, sessionId: string) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const tokenSession = token ? verifySessionToken(deps.secret, token, Math.floor(now() / 1000)) : undefined;
    if (tokenSession === undefined) {
      throw new ApiError(
        401,
        'unauthorized',
        'a valid session token is required (Authorization: Bearer <token>)',
        'authorization',
      );
    }
    if (tokenSession !== sessionId) {
      throw new ApiError(403, 'forbidden', 'the token is for another session', 'authorization');
    }
    const session = await store.get(sessionId);
    if (!session)
      throw new ApiError(404, 'not_found', `session ${sessionId} does not exist or expired`, 'sessionId');
    return session;
  };

  const renewed = (session: SessionRecord): SessionRecord => ({
    ...session,
    expiresAtMs: now() + SESSION_TTL_MS,
  });

  /**
   * The write path of PATCH and heartbeat: `change` turns the session as read into the next one. If another
   * call on the session wrote in between, the store reads the newer record and runs `change` again, so neither
   * call's change is lost (or a 409 after MAX_WRITE_ATTEMPTS). The answer is the record actually written.
   */
  const updated = async (
    request: { headers: Readonly<Record<string, string>> },
    sessionId: string,
    change: (before: SessionRecord) => Promise<{ session: SessionRecord; budget: number }>,
  ): Promise<HttpResponse> => {
    const first = await authorized(request, sessionId);
    let budget = 0;
    const session = await store.update(
      sessionId,
      async (before) => {
        const next = await change(before);
        budget = next.budget;
        return next.session;
      },
      first,
    );
    return respond(200, session, budget);
  };

  const routes: AnyRoute[] = [
    route({
      method: 'GET',
      path: '/api/sessions/openapi.json',
      operationId: 'getSessionOpenApi',
      summary: 'This API as an OpenAPI 3.1 document',
      response: { status: 200, description: 'OpenAPI document' },
      handle: async () => jsonResponse(200, sessionOpenApi(routes), { 'cache-control': 'max-age=300' }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/streams',
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
            live: statuses[i]?.state === 'live',
            renditions: statuses[i]?.renditions ?? ladderFor(s.ladder).map((r) => r.name),
          }))
          .sort((a, b) => Number(b.live) - Number(a.live));
        return jsonResponse(200, { streams, nextCursor: page.nextCursor }, { 'cache-control': 'max-age=2' });
      },
    }),
    route({
      method: 'POST',
      path: '/api/sessions',
      operationId: 'createSession',
      summary: 'Start a viewing session with a layout and streams',
      body: S.CreateSessionBody,
      response: { status: 201, description: 'Session with its token', schema: S.CreatedSession },
      errors: [404, 429],
      handle: async ({ body }) => {
        const tiles = await checkTiles(body.layout, body.tiles, 'tiles');
        const focus = checkFocus(
          body.layout,
          body.focus === undefined ? defaultFocus(body.layout) : body.focus,
        );
        const id = newSessionId();
        const draft: SessionRecord = {
          id,
          version: 0,
          layout: body.layout,
          tiles,
          focus,
          createdAt: new Date(now()).toISOString(),
          expiresAtMs: now() + SESSION_TTL_MS,
          allocation: { renditions: tiles.map(() => null), changedAtMs: now() },
          bandwidthKbps: body.bandwidthKbps ?? INITIAL_BANDWIDTH_KBPS,
          tileSizes: [],
        };
        const allocated = await reallocate(draft, false);
        const session = await store.create(allocated.session);
        const budget = allocated.budget;
        const token = signSessionToken(deps.secret, id, Math.floor(session.expiresAtMs / 1000) + 24 * 3600);
        return respond(201, session, budget, { token });
      },
    }),
    route({
      method: 'GET',
      path: '/api/sessions/{sessionId}',
      operationId: 'getSession',
      summary: 'The session and each tile’s rendition',
      params: P,
      response: { status: 200, description: 'The session', schema: S.SessionView },
      errors: [401, 403, 404, 429],
      handle: async ({ request, params }) => {
        const session = await authorized(request, params.sessionId as string);
        return respond(200, session, session.bandwidthKbps * 0.8);
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/sessions/{sessionId}',
      operationId: 'updateSession',
      summary: 'Switch the stream in a tile, change the layout or focus a tile',
      params: P,
      body: S.UpdateSessionBody,
      response: { status: 200, description: 'The session with new renditions', schema: S.SessionView },
      errors: [401, 403, 404, 409, 429],
      handle: ({ request, params, body }) =>
        updated(request, params.sessionId as string, async (before) => {
          const layout = body.layout ?? before.layout;
          let tiles = body.tiles ?? before.tiles.slice(0, tileCount(layout));
          if (body.tile) {
            if (body.tile.index >= tileCount(layout)) {
              throw new ApiError(
                400,
                'invalid_request',
                `tile.index: layout ${layout} has no tile ${body.tile.index}`,
                'tile.index',
              );
            }
            tiles = [...tiles];
            while (tiles.length <= body.tile.index) tiles.push(null);
            tiles[body.tile.index] = body.tile.streamId;
          }
          const checked = await checkTiles(layout, tiles, body.tiles ? 'tiles' : 'tile.streamId');
          const focus = checkFocus(
            layout,
            body.focus !== undefined
              ? body.focus
              : before.focus !== null && before.focus < tileCount(layout)
                ? before.focus // a layout change keeps the focus where the tile survives
                : defaultFocus(layout),
          );
          const sameShape =
            layout === before.layout &&
            checked.every((t, i) => t === before.tiles[i]) &&
            focus === before.focus;
          return reallocate(
            renewed({
              ...before,
              layout,
              tiles: checked,
              focus,
              tileSizes: layout === before.layout ? before.tileSizes : [],
              struggling: layout === before.layout ? before.struggling : [],
            }),
            sameShape,
          );
        }),
    }),
    route({
      method: 'POST',
      path: '/api/sessions/{sessionId}/heartbeat',
      operationId: 'heartbeat',
      summary: 'Report bandwidth, tile sizes and dropped frames; answered with each tile’s rendition',
      params: P,
      body: S.HeartbeatBody,
      response: { status: 200, description: 'Renditions to play', schema: S.SessionView },
      errors: [401, 403, 404, 409, 429],
      handle: ({ request, params, body }) =>
        updated(request, params.sessionId as string, async (before) => {
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
              t.droppedFrames / (t.decodedFrames + t.droppedFrames) > 0.1,
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
        }),
    }),
    route({
      method: 'DELETE',
      path: '/api/sessions/{sessionId}',
      operationId: 'endSession',
      summary: 'End the session',
      params: P,
      response: { status: 204, description: 'Ended' },
      errors: [401, 403, 404, 409, 429],
      handle: async ({ request, params }) => {
        const session = await authorized(request, params.sessionId as string);
        await store.delete(session.id, session);
        return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      },
    }),
  ];

  const router = createRouter(routes);
  return {
    routes,
    async handle(request) {
      try {
        const decision = await limiter.take(request.sourceIp ?? 'unknown');
        if (!decision.allowed) {
          return respondError(
            new ApiError(
              429,
              'rate_limited',
              'too many requests from this address; retry later',
              'sourceIp',
              {
                'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
              },
            ),
          );
        }
        return await router.dispatch(request, async () => 'viewer');
      } catch (error) {
        if (error instanceof ApiError) return respondError(error);
        if (error instanceof SessionError) {
          const status = error.code === 'not_found' ? 404 : 409;
          return respondError(new ApiError(status, error.code, error.message, 'sessionId'));
        }
        if (error instanceof RegistryError) {
          const status = error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 400;
          return respondError(new ApiError(status, error.code, error.message, error.field));
        }
        deps.logger.error('session call failed', {
          errorName: error instanceof Error ? error.name : typeof error,
        });
        return respondError(new ApiError(500, 'internal_error', 'unexpected error; see the function log'));
      }
    },
  };
}

let cachedDoc: Record<string, unknown> | undefined;
export function sessionOpenApi(routes: readonly AnyRoute[]): Record<string, unknown> {
  cachedDoc ??= buildOpenApi(routes, {
    title: 'Mirror session API',
    version: '1.0.0',
    description:
      'Public API for viewers: sessions with multi-view layouts, heartbeats answered with each tile’s ' +
      'rendition. Rate limited per IP (100 requests/s, burst 200, then 429 with Retry-After). Session calls ' +
      'carry the session token as a bearer token. Calls on one session may overlap (a heartbeat during an ' +
      'update, a retried request): each change is applied to the latest session and none is lost. ' +
      `A PATCH, heartbeat or DELETE that other calls on its session overtook ${MAX_WRITE_ATTEMPTS} times in a row is refused with ` +
      '409 `conflict` (field `sessionId`, the message names the session) and changed nothing; retry it.',
  });
  return cachedDoc;
}
