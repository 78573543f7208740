// The session API over fetch: the session's bearer token, one call at a time.
import { SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { entitlementHeaders } from './entitlement.js';
import type { SessionView } from './model.js';

export type SessionAnswer =
  | { readonly ok: true; readonly session: SessionView }
  | { readonly ok: false; readonly status: number; readonly message: string };

export class SessionClient {
  /** The session's bearer token ('' before the session exists). */
  token = '';
  /** The viewer's entitlement for private streams (D36), sent with every session call; heartbeats ignore it. */
  entitlement: string | undefined;
  /** Session calls run one at a time: an overlapping heartbeat's answer could be shown after a newer update's,
   * and overlapping writes to one session make the server retry or answer 409 (compare-and-set, decision D14). */
  private calls: Promise<unknown> = Promise.resolve();

  /** Runs `call` after every call queued before it has settled. */
  exclusive<T>(call: () => Promise<T>): Promise<T> {
    const result = this.calls.then(call, call);
    this.calls = result.catch(() => undefined);
    return result;
  }

  async send(method: string, path: string, body?: unknown): Promise<SessionAnswer> {
    const response = await fetch(path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...entitlementHeaders(this.entitlement),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { field?: string; message?: string };
      return { ok: false, status: response.status, message: problem.message ?? String(response.status) };
    }
    return { ok: true, session: (await response.json()) as SessionView };
  }

  /** Ends the session as the page goes away (keepalive: the request outlives the page). */
  end(sessionId: string): void {
    void fetch(`${SESSIONS_PATH}/${sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${this.token}` },
      keepalive: true,
    });
  }
}
