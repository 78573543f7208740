import type { Redis } from 'ioredis';
import { viewerCounts } from '../core/adapters/sessions/viewers.js';
import type { StreamRegistry } from '../core/adapters/streams/registry.js';
import type { HttpApp } from '../core/http.js';
import type { Feed } from './encoders/feeds.js';
import { type PlaylistPoll, playlistFigures, readPlaylistPosition } from './playlist-stats.js';
import type { PlatformStream } from './synthetic-streams.js';

export interface StreamStatus {
  readonly id: string;
  readonly state: string;
  readonly inputKbps?: number;
  readonly partsPerSecond?: number;
  /** Now minus the end of the newest part, per PROGRAM-DATE-TIME stamped at ingest (ms). */
  readonly latencyMs?: number;
  /** Viewer sessions (session API) and distinct connections polling the playlists (edge). */
  readonly sessions: number;
  readonly connections: number;
  readonly encoderRestarts: number;
}

export interface StatusSources {
  readonly streams: readonly PlatformStream[];
  /** `feeds[i]` feeds `streams[i]`. */
  readonly feeds: readonly Feed[];
  readonly registry: StreamRegistry;
  readonly redis: Redis;
  /** Asked in process for each stream's playlist, as a player would. */
  readonly manifest: HttpApp;
  /** Distinct connections polling a stream's playlists at the edge. */
  readonly connections: (streamId: string) => number;
}

/**
 * The platform's status(): each stream's ingest state, figures read from its playlist, viewers and
 * encoder restarts. Parts per second count since the previous call, so it keeps each stream's last poll.
 */
export function statusReader(sources: StatusSources): () => Promise<StreamStatus[]> {
  const previous = new Map<string, PlaylistPoll>();

  const figures = async (stream: PlatformStream) => {
    try {
      const response = await sources.manifest.handle({
        method: 'GET',
        path: `/${stream.id}/${stream.rendition}/playlist.m3u8`,
        query: {},
        headers: {},
      });
      if (response.status !== 200) return {};
      const poll = { position: readPlaylistPosition(String(response.body)), atMs: Date.now() };
      const result = playlistFigures(poll, previous.get(stream.id));
      previous.set(stream.id, poll);
      return result;
    } catch {
      // The status line shows what it can; a failing manifest shows as missing figures.
      return {};
    }
  };

  return async () => {
    const ids = sources.streams.map((s) => s.id);
    const [statuses, sessions] = await Promise.all([
      sources.registry.statuses(ids).catch(() => ids.map(() => undefined)),
      viewerCounts(sources.redis, ids).catch(() => ids.map(() => 0)),
    ]);
    return Promise.all(
      sources.streams.map(async (stream, i): Promise<StreamStatus> => {
        const ingestStatus = statuses[i];
        const { latencyMs, partsPerSecond } = await figures(stream);
        return {
          id: stream.id,
          state: ingestStatus?.state ?? 'idle',
          inputKbps: ingestStatus?.input?.bitrateKbps,
          partsPerSecond,
          latencyMs,
          sessions: sessions[i] ?? 0,
          connections: sources.connections(stream.id),
          encoderRestarts: sources.feeds[i]?.state?.restarts ?? 0,
        };
      }),
    );
  };
}
