import { newSessionId, SESSION_TTL_MS, type SessionRecord } from '../../../core/adapters/sessions/store.js';
import { type AnyRoute, route } from '../../../core/api/router.js';
import { defaultFocus } from '../../../core/sessions/layouts.js';
import { signSessionToken } from '../../../core/sessions/token.js';
import type { SessionContext } from '../context.js';
import * as S from '../schemas.js';

/** Before the first heartbeat: enough for a few tile rungs, never more than a slow connection carries. */
const INITIAL_BANDWIDTH_KBPS = 5000;
/** The token is issued once while heartbeats keep renewing the session: it lets a session run for a day. */
const TOKEN_LIFETIME_PAST_EXPIRY_S = 24 * 3600;

/** Errors of the calls on one session: its token (401, 403), its existence (404), a lost race (409). */
export const SESSION_CALL_ERRORS = [401, 403, 404, 409, 429];

export function createSessionRoute(context: SessionContext): AnyRoute {
  const { checkTiles, checkFocus, reallocate, store, respond, secret, now, entitlementOf } = context;
  return route({
    method: 'POST',
    path: '/api/sessions',
    operationId: 'createSession',
    summary: 'Start a viewing session with a layout and streams',
    body: S.CreateSessionBody,
    response: { status: 201, description: 'Session with its token', schema: S.CreatedSession },
    errors: [401, 403, 404, 429],
    handle: async ({ body, request }) => {
      const tiles = await checkTiles(body.layout, body.tiles, 'tiles', await entitlementOf(request));
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
      const expiresAtS = Math.floor(session.expiresAtMs / 1000);
      const token = signSessionToken(secret, id, expiresAtS + TOKEN_LIFETIME_PAST_EXPIRY_S);
      return respond(201, session, allocated.budget, { token });
    },
  });
}

export function getSessionRoute({ authorized, respond }: SessionContext): AnyRoute {
  return route({
    method: 'GET',
    path: '/api/sessions/{sessionId}',
    operationId: 'getSession',
    summary: 'The session and each tile’s rendition',
    params: S.SessionPathParams,
    response: { status: 200, description: 'The session', schema: S.SessionView },
    errors: [401, 403, 404, 429],
    handle: async ({ request, params }) => {
      const session = await authorized(request, params.sessionId as string);
      return respond(200, session, session.bandwidthKbps * 0.8);
    },
  });
}

export function endSessionRoute({ authorized, store }: SessionContext): AnyRoute {
  return route({
    method: 'DELETE',
    path: '/api/sessions/{sessionId}',
    operationId: 'endSession',
    summary: 'End the session',
    params: S.SessionPathParams,
    response: { status: 204, description: 'Ended' },
    errors: SESSION_CALL_ERRORS,
    handle: async ({ request, params }) => {
      const session = await authorized(request, params.sessionId as string);
      await store.delete(session.id, session);
      return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
    },
  });
}
