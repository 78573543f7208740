import type { QueuedEvent } from '../../core/adapters/events.js';
import { OPERATOR_EVENTS_AUTH_HEADER } from '../../core/contracts/api-paths.js';
import {
  CONNECTION_LIFETIME_MS,
  type EventQueue,
  HEARTBEAT_MS,
  type RelayedEvent,
  SSE_HEARTBEAT,
  sseFrame,
  sseOpening,
} from '../../core/events/operator-events.js';
import { errorResponse, type HttpRequest, type HttpResponse } from '../../core/http.js';
import { IngestStatus } from '../../core/streams/status.js';
import { statusView } from '../control/views.js';

/**
 * The operator events endpoint (decision D44): `GET /api/operator/events` answers `text/event-stream`, relaying the
 * events channel to one signed-in operator page. Transport-neutral: the Lambda handler (response streaming) and
 * the local edge write `stream` to their own sockets.
 */

/** The header the page sends its credential in (core/contracts/api-paths.ts says why it is not Authorization). */
export const EVENTS_AUTH_HEADER = OPERATOR_EVENTS_AUTH_HEADER;

/** Where the events come from: one queue per connection (OperatorEventHub). */
export interface EventSource {
  open(): Promise<EventQueue<QueuedEvent> | undefined>;
  close(queue: EventQueue<QueuedEvent>): void;
}

export interface EventsDeps {
  readonly source: EventSource;
  /** The operator behind the credential (a principal for the log), or undefined to refuse with 401. */
  readonly authenticate: (credential: string) => Promise<string | undefined>;
  readonly lifetimeMs?: number;
  readonly heartbeatMs?: number;
  /** Told once per connection, when it ends (how long, how many events, why). */
  readonly onClose?: (summary: ConnectionSummary) => void;
}

export interface ConnectionSummary {
  readonly principal: string;
  readonly events: number;
  readonly durationMs: number;
  readonly reason: 'lifetime' | 'overflow' | 'client' | 'closed';
}

/** The answer: headers, and the SSE text as it is produced (absent on a refusal). */
export interface EventsResponse extends HttpResponse {
  readonly stream?: AsyncIterable<string>;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  // Never stored anywhere: each page's stream is its own, and a cached one would be a stale one.
  'cache-control': 'no-store',
  // Proxies that buffer (nginx and friends) would hold events back; CloudFront passes chunks on as they come.
  'x-accel-buffering': 'no',
};

/**
 * What the page sees of an event: a status in the control API's own view of it, the rest as published (`viewers`,
 * the hub's own samples, included).
 */
function present(event: RelayedEvent): unknown {
  if (event.type !== 'status') return event;
  const parsed = IngestStatus.safeParse(event.status);
  return { ...event, status: statusView(parsed.success ? parsed.data : undefined, undefined) };
}

export function createEventsApp(deps: EventsDeps) {
  const lifetimeMs = deps.lifetimeMs ?? CONNECTION_LIFETIME_MS;
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  return {
    async handle(request: HttpRequest, signal?: AbortSignal): Promise<EventsResponse> {
      if (request.method !== 'GET') return errorResponse(405, 'method_not_allowed', 'GET only', 'method');
      const header = request.headers[EVENTS_AUTH_HEADER] ?? '';
      const principal = header.startsWith('Bearer ') ? await deps.authenticate(header.slice(7)) : undefined;
      if (principal === undefined) {
        const refused = errorResponse(
          401,
          'unauthorized',
          'a valid operator credential is required',
          EVENTS_AUTH_HEADER,
        );
        return { ...refused, headers: { ...refused.headers, 'www-authenticate': 'Bearer' } };
      }
      const queue = await deps.source.open();
      if (queue === undefined) {
        const busy = errorResponse(503, 'busy', 'too many event connections: poll instead', 'connections');
        return { ...busy, headers: { ...busy.headers, 'retry-after': '5' } };
      }
      const run = relay(queue, request.headers['last-event-id'], signal, {
        ...deps,
        lifetimeMs,
        heartbeatMs,
      });
      return { status: 200, headers: { ...SSE_HEADERS }, body: '', stream: run(principal) };
    },
  };
}

function relay(
  queue: EventQueue<QueuedEvent>,
  lastEventId: string | undefined,
  signal: AbortSignal | undefined,
  deps: EventsDeps & { lifetimeMs: number; heartbeatMs: number },
) {
  return async function* (principal: string): AsyncGenerator<string> {
    const started = Date.now();
    // Ids name the process and the channel sequence; nothing is replayed (pub/sub keeps nothing), so a reconnect's
    // Last-Event-ID only tells the page's `sync` what it resumed from.
    const prefix = started.toString(36);
    const onAbort = () => deps.source.close(queue);
    signal?.addEventListener('abort', onAbort);
    let events = 0;
    let reason: ConnectionSummary['reason'] = 'closed';
    try {
      yield sseOpening(`${prefix}-0`, lastEventId);
      for (;;) {
        const left = started + deps.lifetimeMs - Date.now();
        if (left <= 0) {
          reason = 'lifetime';
          yield sseFrame(`${prefix}-end`, 'bye', { reconnect: true });
          return;
        }
        const item = await queue.next(Math.min(deps.heartbeatMs, left));
        if (queue.overflowed) {
          reason = 'overflow';
          yield sseFrame(`${prefix}-overflow`, 'overflow', { reconnect: true });
          return;
        }
        if (signal?.aborted) {
          reason = 'client';
          return;
        }
        if (item !== undefined) {
          events += 1;
          yield sseFrame(`${prefix}-${item.seq}`, item.event.type, present(item.event));
        } else if (queue.closed) return;
        else yield SSE_HEARTBEAT;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      deps.source.close(queue);
      deps.onClose?.({ principal, events, durationMs: Date.now() - started, reason });
    }
  };
}
