// The operator page's access to a stream's media where the edge checks playback tokens (decision D37): the cookie
// `mirror_play` on Path=/<streamId>/ that only a viewer session hands out. While a recording plays, the page holds
// a one-tile session on its stream (an entitlement minted by the control API for a private one) and beats it, as
// the viewer page does; without protection the session is harmless (it counts the operator as a viewer).
import { ENTITLEMENT_HEADER } from '../../../core/auth/header.js';
import { SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import type { Api } from './api.js';

/** The entitlement's lifetime: one long recording; the session itself lives by its heartbeats. */
const ENTITLEMENT_TTL_S = 4 * 3600;
/** Heartbeat period: well inside the 90 s playback token and cookie each answer renews. */
const HEARTBEAT_MS = 30_000;

export interface PlaybackAccess {
  /** Ends the session (its cookie expires with its token). */
  close(): void;
}

/** Opens a one-tile session on `streamId`; resolves once its cookie is set, or with no access where none is given. */
export async function openPlaybackAccess(
  api: Api,
  streamId: string,
  isPrivate: boolean,
): Promise<PlaybackAccess> {
  // Only a private stream needs an entitlement (minted, and audited, per play); where the stage has no viewer-token
  // key the session is refused and playback goes on without it (it works wherever the edge checks nothing).
  const entitlement = isPrivate
    ? await api<{ token: string }>('POST', '/viewer-tokens', {
        streams: [streamId],
        ttlSeconds: ENTITLEMENT_TTL_S,
      }).then(
        (minted) => minted.token,
        () => undefined,
      )
    : undefined;
  const created = await fetch(SESSIONS_PATH, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      ...(entitlement ? { [ENTITLEMENT_HEADER]: entitlement } : {}),
    },
    body: JSON.stringify({ layout: '1x1', tiles: [streamId] }),
  });
  if (!created.ok) return { close: () => undefined };
  const session = (await created.json()) as { sessionId: string; token: string };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${SESSIONS_PATH}/${session.sessionId}${path}`, {
      method,
      credentials: 'same-origin',
      headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch(() => undefined);
  const timer = setInterval(
    () =>
      void call('POST', '/heartbeat', {
        bandwidthKbps: 0,
        tiles: [{ widthPx: 640, heightPx: 360, droppedFrames: 0, decodedFrames: 0 }],
      }),
    HEARTBEAT_MS,
  );
  return {
    close: () => {
      clearInterval(timer);
      void call('DELETE', '');
    },
  };
}
