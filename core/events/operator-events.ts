import { channels } from '../streams/keys.js';
import * as z from '../zod.js';

/**
 * The operator page's live updates (decision D44): the places that change what the page shows publish one small
 * JSON event on OPERATOR_EVENTS_CHANNEL; the events server (functions/events) relays them to each signed-in page
 * as Server-Sent Events. An event is a hint with the data that changed, never the only copy: Redis pub/sub keeps
 * nothing, so a page that (re)connects first gets `sync` and reads the whole picture from the control API once.
 */
export const OPERATOR_EVENTS_CHANNEL = channels.operatorEvents;

/** Largest event relayed: a status is about 1-2 KB; anything far larger is a bug, not a reason to buffer it. */
export const MAX_EVENT_BYTES = 16 * 1024;

/** Built on first use (decision D48), like the event schema: only the events function parses events. */
const StreamId = /* @__PURE__ */ z.lazy(() => z.string().check(z.minLength(1), z.maxLength(128)));

/**
 * `status`: an ingest task wrote a stream's status (state, input figures, SRT, latency; about once a second while
 * live, at once on a state change). `status` is the ingest's JSON; the server turns it into the API's view.
 * `stream`: an operator changed a stream through the control API (create, update, pause, delete, ...): `action` is
 * the route's operationId. `recording`: a recording's index entry changed (started, completed, failed, deleted).
 * `alarm`: a stream went into `error` or its storage degraded (`raised`), or came back (`cleared`).
 */
export const OperatorEvent = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('status'),
      streamId: StreamId,
      status: z.record(z.string(), z.unknown()),
    }),
    z.object({ type: z.literal('stream'), streamId: z.optional(StreamId), action: z.string() }),
    z.object({
      type: z.literal('recording'),
      streamId: StreamId,
      recordingId: z.string(),
      status: z.string(),
    }),
    z.object({
      type: z.literal('alarm'),
      streamId: StreamId,
      alarm: z.enum(['raised', 'cleared']),
      reason: z.string(),
    }),
  ]),
);
export type OperatorEvent = z.infer<typeof OperatorEvent>;

/** The event from a channel message, or undefined for anything malformed or oversized (dropped, never relayed). */
export function parseOperatorEvent(message: string): OperatorEvent | undefined {
  if (message.length > MAX_EVENT_BYTES) return undefined;
  try {
    const parsed = OperatorEvent.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: the channel message of a recording's index change (published inside the recorder's index transaction). */
export function recordingEvent(streamId: string, recordingId: string, status: string): string {
  return JSON.stringify({ type: 'recording', streamId, recordingId, status } satisfies OperatorEvent);
}

/** Pure: an alarm transition between two statuses of a stream, or undefined when nothing an operator must see changed. */
export function alarmTransition(
  before: { state?: string; storage?: { state?: string } } | undefined,
  after: { state?: string; storage?: { state?: string }; error?: string },
): { alarm: 'raised' | 'cleared'; reason: string } | undefined {
  const bad = (s: typeof before) =>
    s === undefined ? false : s.state === 'error' || (s.storage?.state ?? 'ok') !== 'ok';
  if (bad(before) === bad(after)) return undefined;
  if (!bad(after)) return { alarm: 'cleared', reason: 'stream healthy again' };
  if (after.state === 'error') return { alarm: 'raised', reason: after.error ?? 'stream error' };
  return { alarm: 'raised', reason: `storage ${after.storage?.state}` };
}

/** What the SSE server adds to the published events: the first of every connection, and its announced end. */
export type ServerEventType = 'sync' | 'bye' | 'overflow';

/**
 * `viewers`: per-stream viewer counts that changed since the last sample (`{streamId: count}`). Not published on the
 * channel: the session function serves the public and may not publish, so the events server samples the counts
 * itself while a page is connected (core/adapters/events.ts, ViewerSampler) and adds this event to what it relays.
 */
export interface ViewersEvent {
  readonly type: 'viewers';
  readonly viewers: Readonly<Record<string, number>>;
}

/** What one connection relays: the channel's events and the server's own viewer samples. */
export type RelayedEvent = OperatorEvent | ViewersEvent;

/**
 * Pure: the counts in `after` that differ from `before` (a stream new to the sample counts as having had 0, as the
 * page's last full read showed it), or undefined when nothing changed, or when there is no `before` (the first
 * sample is the baseline: the page reads the whole picture on `sync`). Streams gone from the sample are left out:
 * their deletion is a `stream` event of its own.
 */
export function viewerChanges(
  before: ReadonlyMap<string, number> | undefined,
  after: ReadonlyMap<string, number>,
): Record<string, number> | undefined {
  if (before === undefined) return undefined;
  const changed: Record<string, number> = {};
  let any = false;
  for (const [id, count] of after) {
    if ((before.get(id) ?? 0) === count) continue;
    changed[id] = count;
    any = true;
  }
  return any ? changed : undefined;
}

/**
 * The lifetime of one events connection: a Lambda invocation may run at most 15 min, and a held connection is an
 * invocation, so each one ends on its own well before (with `bye`) and the page reconnects at once.
 */
export const CONNECTION_LIFETIME_MS = 5 * 60_000;
/** A comment line this often keeps proxies (CloudFront's 60 s origin read timeout by default) from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** What the page waits before reconnecting after an error (the SSE `retry` field), ms. */
export const RETRY_MS = 1000;
/**
 * Events one connection may have waiting to be written. A page that cannot keep up (a stalled tab, a slow link)
 * is cut, not buffered without limit: it reconnects and reads one snapshot, which costs less than the backlog.
 */
export const MAX_QUEUED_EVENTS = 256;

/** Pure: one SSE frame (`id`, `event`, one `data` line: JSON has no raw newlines). */
export function sseFrame(id: string, type: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Pure: the stream's opening: the reconnect delay, then `sync` (read the whole picture: nothing is replayed). */
export function sseOpening(id: string, lastEventId: string | undefined): string {
  return `retry: ${RETRY_MS}\n\n${sseFrame(id, 'sync', { resumedFrom: lastEventId ?? null })}`;
}

/** Pure: a comment frame, ignored by SSE parsers; it keeps the connection's bytes flowing. */
export const SSE_HEARTBEAT = ': keep-alive\n\n';

/**
 * A bounded FIFO between the Redis subscription (push) and one connection's writer (pull). When it is full the
 * connection is over (`overflowed`): the writer sends `overflow` and ends; the page reconnects and resyncs.
 */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closedFlag = false;
  overflowed = false;

  constructor(private readonly limit = MAX_QUEUED_EVENTS) {}

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** False when the item did not fit (the queue is then closed as overflowed) or the queue is closed. */
  push(item: T): boolean {
    if (this.closedFlag) return false;
    if (this.items.length >= this.limit) {
      this.overflowed = true;
      this.close();
      return false;
    }
    this.items.push(item);
    this.wake?.();
    return true;
  }

  close(): void {
    this.closedFlag = true;
    this.wake?.();
  }

  /** The next item; undefined once closed (and drained), or after `timeoutMs` with nothing (heartbeat time). */
  async next(timeoutMs: number): Promise<T | undefined> {
    if (this.items.length > 0) return this.items.shift();
    if (this.closedFlag) return undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    // An overflow closes the connection at once: what is queued is stale by now, the page resyncs.
    if (this.overflowed) return undefined;
    return this.items.shift();
  }
}
