import { blockingRequestError, blockingTimeoutMs, satisfies } from '../../core/hls/index.js';
import type { HttpResponse } from '../../core/http.js';
import type { StreamSnapshot } from '../../core/live/index.js';
import { Flights, MAX_FLIGHTS } from './flights.js';
import {
  BLOCKING_PLAYLIST_CACHE_CONTROL,
  badRequest,
  notFound,
  playlistResponse,
  retryLater,
} from './responses.js';

/** Per-request wait figures, filled by the app's wait(). */
export interface WaitRecord {
  waitMs?: number;
  timedOut: boolean;
}

/** What a blocking request needs of the app: its live-state read and wait (both throw when Redis is unreachable). */
export interface BlockingDeps {
  read(streamId: string): Promise<StreamSnapshot | undefined>;
  wait(
    streamId: string,
    predicate: (snapshot: StreamSnapshot | undefined) => boolean,
    timeoutMs: number,
    record: WaitRecord,
    signal?: AbortSignal,
  ): Promise<StreamSnapshot | undefined>;
  /** The answer for a stream without live state (503 if it was live lately, else 404). */
  notLive(streamId: string): HttpResponse;
  now(): number;
}

export interface BlockingDirectives {
  readonly msn: number;
  readonly part?: number;
  readonly skip: boolean;
}

/** A blocking request's answer, shared by every identical request in its flight (see flights.ts). */
interface BlockingAnswer {
  readonly response: HttpResponse;
  /** The flight waited for a publish; undefined when it answered from its first read. */
  readonly waited?: { readonly timedOut: boolean };
}

/** What a caller that went away gets (nobody reads it: its connection is closed). */
const gone = (): BlockingAnswer => ({
  response: retryLater('not_yet_available', 'the request was aborted'),
  waited: { timedOut: false },
});

/**
 * Blocking playlist reload (`_HLS_msn`, `_HLS_part`): answered once the requested part is in the live state, 503
 * after about three target durations. Identical requests share one flight: one read, one wait, one response.
 */
export function blockingPlaylists(deps: BlockingDeps, maxFlights = MAX_FLIGHTS) {
  const flights = new Flights<BlockingAnswer>(deps.now, maxFlights);

  /** One flight: one read, at most one wait, one rendered response (shared with other flights on the same publish). */
  async function fly(
    streamId: string,
    rendition: string,
    { msn, part, skip }: BlockingDirectives,
    signal?: AbortSignal,
  ): Promise<BlockingAnswer> {
    const snapshot = await deps.read(streamId);
    if (snapshot === undefined) return { response: deps.notLive(streamId) };
    const state = snapshot.renditions.get(rendition);
    if (state === undefined)
      return { response: notFound(`stream ${streamId} has no rendition ${rendition}`) };
    const refused = blockingRequestError(state.timeline, msn, part);
    if (refused !== undefined) return { response: badRequest(refused.field, refused.message) };
    if (satisfies(state.timeline, msn, part)) {
      return { response: playlistResponse(snapshot, rendition, skip, BLOCKING_PLAYLIST_CACHE_CONTROL) };
    }
    const timeoutMs = blockingTimeoutMs(state.timeline);
    const ready = (s: StreamSnapshot | undefined) => {
      const t = s?.renditions.get(rendition)?.timeline;
      return t === undefined || satisfies(t, msn, part);
    };
    const waited: WaitRecord = { timedOut: false };
    const woken = await deps.wait(streamId, ready, timeoutMs, waited, signal);
    if (woken === undefined) {
      const what = `segment ${msn}${part === undefined ? '' : ` part ${part}`}`;
      return {
        response: retryLater('not_yet_available', `${what} did not appear within ${timeoutMs} ms`),
        waited,
      };
    }
    // The snapshot that satisfied the wait, as LiveWaiters read it after the publish: never newer than what was
    // published, and the same object for every flight woken by that publish (one render per rendition and skip).
    return { response: playlistResponse(woken, rendition, skip, BLOCKING_PLAYLIST_CACHE_CONTROL), waited };
  }

  return async (
    streamId: string,
    rendition: string,
    directives: BlockingDirectives,
    record: WaitRecord,
    signal?: AbortSignal,
  ): Promise<HttpResponse> => {
    const joined = deps.now();
    const { msn, part, skip } = directives;
    // Names are path segments (no newline): one field cannot spill into the next.
    const key = `${streamId}\n${rendition}\n${msn}\n${part ?? ''}\n${skip}`;
    const answer = await flights.join(
      key,
      (shared) => fly(streamId, rendition, directives, shared),
      gone,
      signal,
    );
    if (answer.waited !== undefined) {
      record.timedOut = answer.waited.timedOut;
      record.waitMs = (record.waitMs ?? 0) + (deps.now() - joined);
    }
    return answer.response;
  };
}
