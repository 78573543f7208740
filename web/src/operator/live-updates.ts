// The operator page's live updates (decision D44): one Server-Sent Events stream from /api/operator/events, read
// with fetch() (EventSource cannot send the credential header), reconnected when it ends (each connection lives a
// few minutes, then says `bye`) or fails; while it is down the dashboard polls instead.
import { OPERATOR_EVENTS_AUTH_HEADER, OPERATOR_EVENTS_PATH } from '../../../core/contracts/api-paths.js';
import type { Stream, StreamStatus } from './model.js';
import { type SseMessage, sseParser } from './sse.js';

/** `push`: events arrive (polling is off); `polling`: the stream failed, the dashboard polls until it is back. */
export type UpdatesMode = 'connecting' | 'push' | 'polling';

export interface LiveUpdatesOptions {
  /**
   * `Bearer <token>`, read at each (re)connect: tokens are refreshed meanwhile. A 401 here is a failure like any other
   * (the page polls, and the API's own 401 is what signs the operator in again): a misconfigured events endpoint must
   * not sign an operator out.
   */
  readonly credential: () => string;
  readonly onMessage: (message: SseMessage) => void;
  readonly onMode: (mode: UpdatesMode) => void;
  readonly url?: string;
}

/** First retry after a failure; doubled per failure in a row up to RETRY_MAX_MS (a server that is down is not hammered). */
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 30_000;

/** Pure: the wait before reconnect attempt `failures` (1, 2, ...). */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
}

export function startLiveUpdates(options: LiveUpdatesOptions): { stop(): void } {
  let stopped = false;
  let abort = new AbortController();
  let lastEventId: string | undefined;
  let failures = 0;
  let wake: (() => void) | undefined;

  const connect = async (): Promise<void> => {
    const headers: Record<string, string> = {
      [OPERATOR_EVENTS_AUTH_HEADER]: options.credential(),
      accept: 'text/event-stream',
    };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(options.url ?? OPERATOR_EVENTS_PATH, {
      headers,
      cache: 'no-store',
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
    const parser = sseParser((message) => {
      // `sync` opens every connection: from here on the stream is the source of changes.
      if (message.event === 'sync') {
        failures = 0;
        options.onMode('push');
      }
      options.onMessage(message);
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } finally {
      lastEventId = parser.lastEventId ?? lastEventId;
    }
  };

  const run = async () => {
    options.onMode('connecting');
    while (!stopped) {
      try {
        await connect();
        // A clean end (`bye` at the connection's lifetime, `overflow`): reconnect at once; it resyncs.
        continue;
      } catch {
        if (stopped) return;
        failures += 1;
      }
      options.onMode('polling');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryDelayMs(failures));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      abort = new AbortController();
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      abort.abort();
      wake?.();
    },
  };
}

/** A `status` event's payload as the server sends it (functions/events: the control API's view of the status). */
export interface StatusEvent {
  readonly streamId: string;
  readonly status: StreamStatus;
}

/** An `alarm` event: a stream entered (`raised`) or left (`cleared`) error or degraded storage. */
export interface AlarmEvent {
  readonly streamId: string;
  readonly alarm: 'raised' | 'cleared';
  readonly reason: string;
}

/**
 * A `viewers` event: the viewer counts that changed, by stream id. The events server samples them once a second
 * while the page is connected (the public session function that changes them may not publish).
 */
export interface ViewersEvent {
  readonly viewers: Readonly<Record<string, number>>;
}

/**
 * Pure: the streams with pushed viewer counts applied, or the same array when none of them is shown (so a caller
 * can skip the render). Unknown streams are ignored, as for statuses; a count that is not a finite number >= 0 too.
 */
export function applyViewers(streams: Stream[], event: ViewersEvent): Stream[] {
  let changed = false;
  const next = streams.map((s) => {
    const count = Object.hasOwn(event.viewers, s.id) ? event.viewers[s.id] : undefined;
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0 || count === s.viewers) return s;
    changed = true;
    return { ...s, viewers: count };
  });
  return changed ? next : streams;
}

/**
 * Pure: the streams with a pushed status applied. Unknown streams are ignored (a `stream` event brings new ones by a
 * refetch); an older status than the one shown (a late event after a fresher refetch) changes nothing.
 */
export function applyStatus(streams: readonly Stream[], event: StatusEvent): Stream[] {
  return streams.map((s) =>
    s.id === event.streamId && !isOlder(event.status, s.status) ? { ...s, status: event.status } : s,
  );
}

/**
 * Pure: a fresh list with the pushed statuses that are newer than what the list read (a refetch that left before
 * an event and arrived after it must not turn a paused stream back to live).
 */
export function mergeFetched(fetched: readonly Stream[], shown: readonly Stream[]): Stream[] {
  const byId = new Map(shown.map((s) => [s.id, s.status]));
  return fetched.map((s) => {
    const pushed = byId.get(s.id);
    return pushed && isOlder(s.status, pushed) ? { ...s, status: pushed } : s;
  });
}

function isOlder(a: StreamStatus, b: StreamStatus): boolean {
  return a.updatedAt !== undefined && b.updatedAt !== undefined && a.updatedAt < b.updatedAt;
}
