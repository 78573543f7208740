import type { z } from 'zod';
import type { SessionRecord } from '../../core/adapters/sessions/store.js';
import { playlistPaths } from '../../core/contracts/names.js';
import { type HttpResponse, jsonResponse } from '../../core/http.js';
import { heartbeatIntervalMs } from '../../core/sessions/heartbeat-policy.js';
import { layoutTiles } from '../../core/sessions/layouts.js';
import { PLAYBACK_COOKIE, signPlaybackToken } from '../../core/sessions/token.js';
import type * as S from './schemas.js';

/** Extra playback-token lifetime past the session's expiry, so a late heartbeat does not cut playback. */
const PLAYBACK_GRACE_S = 60;

export interface SessionResponderDeps {
  /** HMAC secret for playback tokens. */
  readonly secret: string;
  /** Issue playback tokens (cookie + body) for the edge to check. */
  readonly playbackProtection?: boolean;
  readonly now: () => number;
}

/** A session as the API shows it: each tile's rect, rendition and playlists, and its playback token. */
export type SessionResponder = (
  status: number,
  session: SessionRecord,
  budget: number,
  extra?: Record<string, unknown>,
) => HttpResponse;

export function sessionResponder(deps: SessionResponderDeps): SessionResponder {
  const playbackTokenFor = (session: SessionRecord) =>
    signPlaybackToken(
      deps.secret,
      session.tiles.filter((t): t is string => t !== null),
      Math.floor(session.expiresAtMs / 1000) + PLAYBACK_GRACE_S,
    );

  return (status, session, budget, extra = {}) => {
    const playbackToken = deps.playbackProtection ? playbackTokenFor(session) : undefined;
    const body = { ...sessionView(session, budget, playbackToken, deps.now()), ...extra };
    const headers: Record<string, string> = {};
    if (deps.playbackProtection && body.playbackToken) {
      const maxAge = Math.max(0, Math.floor((session.expiresAtMs - deps.now()) / 1000) + PLAYBACK_GRACE_S);
      // Same site as the media (one URL space, decision D2); not readable by scripts.
      headers['set-cookie'] =
        `${PLAYBACK_COOKIE}=${body.playbackToken}; Path=/; Max-Age=${maxAge}; Secure; HttpOnly; SameSite=Lax`;
    }
    return jsonResponse(status, body, headers);
  };
}

function sessionView(
  session: SessionRecord,
  budget: number,
  playbackToken: string | undefined,
  nowMs: number,
): z.infer<typeof S.SessionView> {
  const rects = layoutTiles(session.layout);
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
        master: streamId === null ? null : playlistPaths.multivariant(streamId),
        playlist: streamId === null || rendition === null ? null : playlistPaths.media(streamId, rendition),
      };
    }),
    expiresAt: new Date(session.expiresAtMs).toISOString(),
    // Frequent while the allocation is moving, rare once it has settled (D27).
    heartbeatIntervalMs: heartbeatIntervalMs(session.allocation.changedAtMs, nowMs),
    budgetKbps: Math.round(budget),
    ...(playbackToken ? { playbackToken } : {}),
  };
}
