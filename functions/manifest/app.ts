import type { Logger } from '@aws-lambda-powertools/logger';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { RedisPartStore } from '../../core/adapters/live/part-store.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import {
  keyOf,
  type MediaPath,
  mediaKeys,
  parseMediaPath,
  parsePlaylistPath,
} from '../../core/contracts/names.js';
import {
  buildMultivariantPlaylist,
  holdFor,
  parseDirectives,
  published,
  renderMultivariantPlaylist,
} from '../../core/hls/index.js';
import { RecentlyLive } from '../../core/hls/recently-live.js';
import { errorResponse, type HttpApp, type HttpRequest, type HttpResponse } from '../../core/http.js';
import type { StreamSnapshot } from '../../core/live/index.js';
import { type PartStore, partOfSegment } from '../../core/packager/part-store.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { blockingPlaylists, type WaitRecord } from './blocking-playlist.js';
import {
  badRequest,
  LIVE_PLAYLIST_CACHE_CONTROL,
  MULTIVARIANT_CACHE_CONTROL,
  mediaResponse,
  notFound,
  playlistResponse,
  retryLater,
  text,
  withCors,
} from './responses.js';

export {
  BLOCKING_PLAYLIST_CACHE_CONTROL,
  ERROR_CACHE_CONTROL,
  LIVE_PLAYLIST_CACHE_CONTROL,
  MULTIVARIANT_CACHE_CONTROL,
  RETRY_AFTER_S,
} from './responses.js';

export interface ManifestDeps {
  readonly live: Pick<LiveState, 'read'>;
  readonly waiters: Pick<LiveWaiters, 'wait'>;
  /** Segments and init segments under the part pattern, and parts written there while the part store was down. */
  readonly storage: MediaStorage;
  /**
   * Where the ingest writes parts (decision D33): the live state's Redis. Without one (a test, an ingest that writes
   * parts to storage) parts are read from storage alone.
   */
  readonly parts?: Pick<PartStore, 'get'>;
  readonly logger?: Pick<Logger, 'warn' | 'error'>;
  /** Told about every answered request (the Lambda handler turns this into metrics); must not throw. */
  readonly observe?: (outcome: RequestOutcome) => void;
  /** Monotonic milliseconds for the figures in RequestOutcome and the recently-live window; performance.now by default. */
  readonly now?: () => number;
  /**
   * Streams this instance served as live lately: one of them without live state answers 503 + Retry-After (briefly
   * gone: a Redis restart, an encoder reconnecting), not 404, which players do not retry. A fresh one by default.
   */
  readonly recentlyLive?: RecentlyLive;
  /**
   * Distinct blocking requests sharing a flight at once (flights.ts); 0 runs every request on its own, as before
   * decision D30 (the wake-up benchmark's reference). MAX_FLIGHTS by default.
   */
  readonly maxFlights?: number;
}

/** What one request cost, for metrics: the app itself knows nothing of CloudWatch. */
export interface RequestOutcome {
  /** `playlist`: multivariant or media playlist; `media`: a part, segment or init segment (held or not). */
  readonly kind: 'playlist' | 'media' | 'other';
  readonly status: number;
  /** From the request's arrival to its answer, including any wait. */
  readonly latencyMs: number;
  /** Time spent waiting for a publish (blocking reload or held part); undefined when the request did not wait. */
  readonly waitMs?: number;
  /** The wait ran out before the awaited part appeared (503 for a playlist, 404 for a held part). */
  readonly timedOut: boolean;
}

/** Builds the manifest app on one Redis connection: a second connection (duplicate) carries the one subscription. */
export function manifestDepsFromRedis(redis: Redis, storage: MediaStorage): ManifestDeps {
  const live = new LiveState(redis);
  const subscriber = redis.duplicate();
  // Its failures reach the waits that need it (503); the main connection's outage log tells the rest.
  subscriber.on('error', () => undefined);
  return { live, waiters: new LiveWaiters(subscriber, live), storage, parts: new RedisPartStore(redis) };
}

class LiveUnavailable extends Error {}

/**
 * Multivariant and media playlists with blocking reload and delta updates, and held preload-hinted media.
 * Transport-neutral: the Lambda handler and the local edge both call handle().
 */
export function createManifestApp(deps: ManifestDeps): HttpApp {
  const now = deps.now ?? (() => performance.now());
  const live = remembering(deps.live, deps.recentlyLive ?? new RecentlyLive(), now);
  const read = async (streamId: string): Promise<StreamSnapshot | undefined> => {
    try {
      return await live.read(streamId);
    } catch (error) {
      throw new LiveUnavailable(String(error));
    }
  };
  const wait = async (
    streamId: string,
    predicate: (s: StreamSnapshot | undefined) => boolean,
    timeoutMs: number,
    record: WaitRecord,
    signal?: AbortSignal,
  ) => {
    const started = now();
    try {
      const woken = await deps.waiters.wait(streamId, predicate, timeoutMs, signal);
      record.timedOut = woken === undefined;
      return woken;
    } catch (error) {
      throw new LiveUnavailable(String(error));
    } finally {
      record.waitMs = (record.waitMs ?? 0) + (now() - started);
    }
  };

  async function multivariant(streamId: string): Promise<HttpResponse> {
    const snapshot = await read(streamId);
    if (snapshot === undefined) return notLive(live, streamId);
    const playlist = buildMultivariantPlaylist(
      [...snapshot.renditions].map(([name, state]) => ({ name, info: state.info, timeline: state.timeline })),
    );
    return text(renderMultivariantPlaylist(playlist), MULTIVARIANT_CACHE_CONTROL);
  }

  const blocking = blockingPlaylists(
    { read, wait, notLive: (streamId) => notLive(live, streamId), now },
    deps.maxFlights,
  );

  async function mediaPlaylist(
    streamId: string,
    rendition: string,
    request: HttpRequest,
    record: WaitRecord,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const directives = parseDirectives(request.query);
    if ('error' in directives) return badRequest(directives.field, directives.error);
    const { msn, part, skip } = directives;
    if (msn !== undefined) return blocking(streamId, rendition, { msn, part, skip }, record, signal);
    const snapshot = await read(streamId);
    if (snapshot === undefined) return notLive(live, streamId);
    return playlistResponse(snapshot, rendition, skip, LIVE_PLAYLIST_CACHE_CONTROL);
  }

  /**
   * A stored part, from the part store first, then from storage (parts written there through a Redis outage, D33).
   * A store that cannot be read is an outage of the live state too (same Redis): 503, as for its playlist.
   */
  async function storedPart(key: string): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await deps.parts?.get(key);
    } catch (error) {
      throw new LiveUnavailable(String(error));
    }
    return bytes ?? (await deps.storage.get(key));
  }

  async function media(path: MediaPath, record: WaitRecord, signal?: AbortSignal): Promise<HttpResponse> {
    const key = keyOf(path);
    // Only parts are held and read from the part store. A segment or init segment reaches this origin only under a
    // stream or folder whose name matches the part pattern (core/contracts/delivery.ts): it was stored before any
    // playlist named it, so storage's answer is final, and no Redis call is made for it (a flood of such names, a
    // scanner, stays off the live state).
    if (path.kind !== 'part') {
      const stored = await deps.storage.get(key);
      return stored === undefined ? notFound(`${key} does not exist`) : mediaResponse(path, stored);
    }
    const stored = await storedPart(key);
    if (stored !== undefined) return mediaResponse(path, stored);
    const snapshot = await read(path.streamId);
    // A hinted part of a stream whose state is gone: like its playlist, 503 (retried) if it was live lately, else 404.
    if (snapshot === undefined) return notLive(live, path.streamId);
    const timeline = snapshot?.renditions.get(path.rendition)?.timeline;
    if (timeline === undefined) return notFound(`stream ${path.streamId} has no rendition ${path.rendition}`);
    const waitMs = holdFor(timeline, path);
    if (waitMs === undefined) {
      // Not about to be published: an earlier part the store lost or let expire is cut from its stored segment.
      const cut = await fromSegment(path);
      return cut === undefined
        ? notFound(`${key} does not exist and is not the next to be published`)
        : mediaResponse(path, cut);
    }
    if (!published(timeline, path)) {
      const woken = await wait(
        path.streamId,
        (s) => {
          const t = s?.renditions.get(path.rendition)?.timeline;
          return t === undefined || published(t, path);
        },
        waitMs,
        record,
        signal,
      );
      if (woken === undefined) return notFound(`${key} was not published within ${waitMs} ms`);
    }
    const bytes = (await storedPart(key)) ?? (await fromSegment(path));
    return bytes === undefined ? notFound(`${key} does not exist`) : mediaResponse(path, bytes);
  }

  /** A part of a closed segment that the store lost (a node restarted empty) or let expire: cut from the segment. */
  async function fromSegment(path: Extract<MediaPath, { kind: 'part' }>): Promise<Uint8Array | undefined> {
    const segment = await deps.storage.get(
      mediaKeys.segment(path.streamId, path.rendition, path.broadcast, path.msn),
    );
    return segment === undefined ? undefined : partOfSegment(segment, path.part);
  }

  return {
    async handle(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
      if (deps.observe === undefined) return answer(request, { timedOut: false }, signal);
      const started = now();
      const record: WaitRecord = { timedOut: false };
      const response = await answer(request, record, signal);
      try {
        deps.observe({
          kind: kindOf(request),
          status: response.status,
          latencyMs: now() - started,
          waitMs: record.waitMs,
          timedOut: record.timedOut,
        });
      } catch (error) {
        deps.logger?.warn('request observer failed', { error: String(error) });
      }
      return response;
    },
  };

  async function answer(
    request: HttpRequest,
    record: WaitRecord,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    if (request.method === 'OPTIONS')
      return withCors({ status: 204, headers: { 'cache-control': 'public, max-age=86400' }, body: '' });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return withCors({
        ...errorResponse(405, 'method_not_allowed', `${request.method} is not supported`),
        headers: { allow: 'GET, HEAD, OPTIONS' },
      });
    }
    try {
      const response = await route(request, record, signal);
      return request.method === 'HEAD' ? { ...response, body: '' } : response;
    } catch (error) {
      if (error instanceof LiveUnavailable) {
        deps.logger?.warn('live state unreachable', { error: error.message });
        return retryLater('live_state_unavailable', 'live state is unreachable; retry shortly');
      }
      deps.logger?.error('manifest request failed', { path: request.path, error });
      return withCors({
        ...errorResponse(500, 'internal_error', 'the request failed'),
        headers: { 'cache-control': 'no-store' },
      });
    }
  }

  async function route(
    request: HttpRequest,
    record: WaitRecord,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const playlist = parsePlaylistPath(request.path);
    if (playlist?.kind === 'multivariant') return multivariant(playlist.streamId);
    if (playlist?.kind === 'media')
      return mediaPlaylist(playlist.streamId, playlist.rendition, request, record, signal);
    const mediaPath = parseMediaPath(request.path);
    if (mediaPath !== undefined && request.path.startsWith('/')) return media(mediaPath, record, signal);
    return notFound(`no such path: ${request.path}`);
  }
}

function kindOf(request: HttpRequest): RequestOutcome['kind'] {
  if (request.method !== 'GET' && request.method !== 'HEAD') return 'other';
  if (parsePlaylistPath(request.path) !== undefined) return 'playlist';
  return parseMediaPath(request.path) !== undefined && request.path.startsWith('/') ? 'media' : 'other';
}

interface RememberingLive extends Pick<LiveState, 'read'> {
  /** Whether the stream was read as live within the recently-live window. */
  wasLive(streamId: string): boolean;
}

/** The live state, where reading a stream as live marks it recently live. */
function remembering(live: ManifestDeps['live'], recent: RecentlyLive, now: () => number): RememberingLive {
  return {
    async read(streamId) {
      const snapshot = await live.read(streamId);
      if (snapshot !== undefined) recent.seen(streamId, now());
      return snapshot;
    },
    wasLive: (streamId) => recent.wasLive(streamId, now()),
  };
}

/** No live state: 503 for a stream served live lately (players retry it; see RecentlyLive), 404 for any other. */
function notLive(live: RememberingLive, streamId: string): HttpResponse {
  return live.wasLive(streamId)
    ? retryLater(
        'stream_offline',
        `stream ${streamId} was live moments ago and has no live state now; retry shortly`,
      )
    : notFound(`stream ${streamId} is not live`);
}
