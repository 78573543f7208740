import type { z } from 'zod';
import type { SessionRecord } from '../../core/adapters/sessions/store.js';
import { dvrPath, playlistPaths } from '../../core/contracts/names.js';
import { type HttpResponse, jsonResponse } from '../../core/http.js';
import { heartbeatIntervalMs } from '../../core/sessions/heartbeat-policy.js';
import { layoutTiles } from '../../core/sessions/layouts.js';
import { PLAYBACK_TOKEN_TTL_S } from '../../core/sessions/playback-keys.js';
import { PLAYBACK_COOKIE, type PlaybackSigningKey, signPlaybackToken } from '../../core/sessions/token.js';
import type * as S from './schemas.js';

/** The playback key to sign with now (the key ring's signing key, functions/session/playback-signer.ts). */
export type PlaybackSigner = () => PlaybackSigningKey;

export interface SessionResponderDeps {
  /** Issue playback tokens (cookies + body) for the edge to check: playback protection is on. */
  readonly playbackSigner?: PlaybackSigner;
  readonly now: () => number;
}

/** A session as the API shows it: each tile's rect, rendition and playlists, and its playback token. */
export type SessionResponder = (
  status: number,
  session: SessionRecord,
  budget: number,
  extra?: Record<string, unknown>,
) => HttpResponse;

/**
 * One playback token per stream of the session (decision D37), each also set as a cookie on `Path=/<streamId>/`:
 * the browser sends a stream's media requests that stream's token and no other, so hls.js and Shaka need no
 * configuration, and two tabs (two sessions) watching different streams never overwrite each other's cookie; two
 * watching the same stream overwrite it with an equally valid one. Every answer renews them (heartbeats included)
 * for PLAYBACK_TOKEN_TTL_S. The body carries them too, for players that put the token in the query instead.
 */
export function sessionResponder(deps: SessionResponderDeps): SessionResponder {
  const tokensFor = (session: SessionRecord, key: PlaybackSigningKey, nowMs: number) => {
    const expiresAtSec = Math.floor(nowMs / 1000) + PLAYBACK_TOKEN_TTL_S;
    const streams = [...new Set(session.tiles.filter((t): t is string => t !== null))].sort();
    return Object.fromEntries(streams.map((s) => [s, signPlaybackToken(key, session.id, s, expiresAtSec)]));
  };

  return (status, session, budget, extra = {}) => {
    const nowMs = deps.now();
    const tokens = deps.playbackSigner ? tokensFor(session, deps.playbackSigner(), nowMs) : undefined;
    const body = { ...sessionView(session, budget, tokens, nowMs), ...extra };
    // Same site as the media (one URL space, decision D2); not readable by scripts. Cross-site embeds: docs/sessions.md.
    const cookies = Object.entries(tokens ?? {}).map(
      ([streamId, token]) =>
        `${PLAYBACK_COOKIE}=${token}; Path=/${streamId}/; Max-Age=${PLAYBACK_TOKEN_TTL_S}; Secure; HttpOnly; SameSite=Lax`,
    );
    const response = jsonResponse(status, body);
    return cookies.length > 0 ? { ...response, cookies } : response;
  };
}

function sessionView(
  session: SessionRecord,
  budget: number,
  playbackTokens: Record<string, string> | undefined,
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
        dvr: streamId === null ? null : dvrPath(streamId),
        playlist: streamId === null || rendition === null ? null : playlistPaths.media(streamId, rendition),
      };
    }),
    expiresAt: new Date(session.expiresAtMs).toISOString(),
    // Frequent while the allocation is moving, rare once it has settled (D27).
    heartbeatIntervalMs: heartbeatIntervalMs(session.allocation.changedAtMs, nowMs),
    budgetKbps: Math.round(budget),
    ...(playbackTokens ? { playbackTokens } : {}),
  };
}
