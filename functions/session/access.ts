import { SESSION_TTL_MS, type SessionRecord, type SessionStore } from '../../core/adapters/sessions/store.js';
import { ApiError } from '../../core/api/router.js';
import type { HttpRequest, HttpResponse } from '../../core/http.js';
import { verifySessionToken } from '../../core/sessions/token.js';
import type { Allocated } from './allocation.js';
import type { SessionResponder } from './respond.js';

export interface SessionAccess {
  /** The session named in the path, if the bearer token is for it. */
  authorized(request: Pick<HttpRequest, 'headers'>, sessionId: string): Promise<SessionRecord>;
  /**
   * The write path of PATCH and heartbeat: `change` turns the session as read into the next one. If
   * another call on the session wrote in between, the store reads the newer record and runs `change` again,
   * so neither call's change is lost (or a 409 after MAX_WRITE_ATTEMPTS). The answer is the record actually
   * written.
   */
  updated(
    request: Pick<HttpRequest, 'headers'>,
    sessionId: string,
    change: (before: SessionRecord) => Promise<Allocated>,
  ): Promise<HttpResponse>;
  /** The session with its expiry pushed a TTL past now. */
  renewed(session: SessionRecord): SessionRecord;
}

export interface SessionAccessDeps {
  /** HMAC secret of session tokens. */
  readonly secret: string;
  readonly store: SessionStore;
  readonly respond: SessionResponder;
  readonly now: () => number;
}

export function sessionAccess({ secret, store, respond, now }: SessionAccessDeps): SessionAccess {
  const authorized = async (request: Pick<HttpRequest, 'headers'>, sessionId: string) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const tokenSession = token ? verifySessionToken(secret, token, Math.floor(now() / 1000)) : undefined;
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

  return {
    authorized,
    async updated(request, sessionId, change) {
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
    },
    renewed: (session) => ({ ...session, expiresAtMs: now() + SESSION_TTL_MS }),
  };
}
