import {
  EventQueue,
  OPERATOR_EVENTS_CHANNEL,
  type OperatorEvent,
  parseOperatorEvent,
  type RelayedEvent,
  viewerChanges,
} from '../events/operator-events.js';
import type { Logger } from '../logger.js';
import { OutageNotice } from '../outage.js';
import type { RedisPort } from '../resp/port.js';
import { streamKeys } from '../streams/keys.js';
import { viewerCounts } from './sessions/viewers.js';

/** What publishing needs of a Redis client (ioredis, or any client with PUBLISH). */
export interface EventPublishPort {
  publish(channel: string, message: string): Promise<unknown>;
}

/** What relaying needs of a dedicated subscriber connection. */
export interface EventSubscribePort {
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
}

/** Publishes one operator event (decision D44). Never throws and never waits: a lost hint costs one page refresh. */
export type OperatorEventPublisher = (event: OperatorEvent) => void;

/** The publisher over a Redis connection that may PUBLISH to the events channel (REDIS_ACCESS, D38). */
export function redisEventPublisher(
  redis: EventPublishPort,
  log?: Pick<Logger, 'warn' | 'info'>,
): OperatorEventPublisher {
  const outage = log ? new OutageNotice(log, 'operator event publishes') : undefined;
  return (event) => {
    let sent: Promise<unknown>;
    try {
      sent = redis.publish(OPERATOR_EVENTS_CHANNEL, JSON.stringify(event));
    } catch (error) {
      // A client that cannot publish at all (closed) is an outage like any other, not the caller's failure.
      outage?.failed(error);
      return;
    }
    sent.then(
      () => outage?.succeeded(),
      (error: unknown) => outage?.failed(error),
    );
  };
}

/** One relayed event as a connection's queue holds it: a sequence number (the SSE id) and the event. */
export interface QueuedEvent {
  readonly seq: number;
  readonly event: RelayedEvent;
}

/** Connections one process relays to at once: each holds a queue of at most MAX_QUEUED_EVENTS small events. */
export const MAX_CONNECTIONS = 200;

/** How often the viewer counts are sampled while a page is connected: the "pushed within 1 s". */
export const VIEWER_SAMPLE_MS = 1000;
/**
 * Streams sampled, oldest first as the control API lists them: the page shows the first 100, so 200 covers it with
 * room; each is one ZCOUNT a second per open events process, so the bound is also Redis's load.
 */
export const MAX_SAMPLED_STREAMS = 200;

/**
 * The viewer counts of the first MAX_SAMPLED_STREAMS streams, as the control API computes them (viewerCounts):
 * two round trips, the index then one MULTI of ZCOUNTs.
 */
export async function sampleViewers(redis: RedisPort, nowMs = Date.now()): Promise<Map<string, number>> {
  const ids = await redis.zrange(streamKeys.index, 0, MAX_SAMPLED_STREAMS - 1);
  const counts = await viewerCounts(redis, ids, nowMs);
  return new Map(ids.map((id, i) => [id, counts[i] ?? 0]));
}

/**
 * Samples the viewer counts every `intervalMs` while started and reports the ones that changed (viewerChanges).
 * Viewer sessions are written by the public session function, which may not publish (D38), and a count also falls
 * without any write when a session's expiry passes: sampling sees both. One read at a time (the next is scheduled
 * when one ends), nothing kept but the last sample.
 */
export class ViewerSampler {
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: Map<string, number> | undefined;
  private readonly outage: OutageNotice | undefined;

  constructor(
    private readonly read: () => Promise<Map<string, number>>,
    private readonly emit: (changed: Record<string, number>) => void,
    private readonly intervalMs = VIEWER_SAMPLE_MS,
    log?: Pick<Logger, 'warn' | 'info'>,
  ) {
    this.outage = log ? new OutageNotice(log, 'viewer count samples') : undefined;
  }

  get running(): boolean {
    return this.generation % 2 === 1;
  }

  /** Starts sampling; resolves once the first sample (the baseline) is read or has failed. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.generation += 1;
    this.last = undefined;
    return this.tick(this.generation);
  }

  stop(): void {
    // An odd generation is a running one; a read still in flight sees the change and schedules nothing.
    if (this.running) this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private async tick(generation: number): Promise<void> {
    try {
      const sample = await this.read();
      if (generation !== this.generation) return;
      const changed = viewerChanges(this.last, sample);
      this.last = sample;
      this.outage?.succeeded();
      if (changed) this.emit(changed);
    } catch (error) {
      // Skipped, not fatal: the page's periodic full read still shows viewers while Redis is unreachable.
      this.outage?.failed(error);
    }
    if (generation !== this.generation) return;
    this.timer = setTimeout(() => void this.tick(generation), this.intervalMs);
  }
}

/**
 * Fans the events channel out to the open connections: one subscriber connection per process (on Lambda one
 * connection is one invocation, so one each; the local edge serves every page from one). A queue that overflows
 * is dropped here and its connection ends (EventQueue). With a `viewers` reader it also runs one ViewerSampler for
 * all its connections, from the first open to the last close.
 */
export class OperatorEventHub {
  private readonly queues = new Set<EventQueue<QueuedEvent>>();
  private seq = 0;
  private subscribed: Promise<unknown> | undefined;
  private readonly sampler: ViewerSampler | undefined;

  constructor(
    private readonly subscriber: EventSubscribePort,
    options: {
      /** A connection that may read the stream index and the viewer sets (REDIS_ACCESS.events, D38). */
      viewers?: RedisPort;
      sampleMs?: number;
      log?: Pick<Logger, 'warn' | 'info'>;
    } = {},
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== OPERATOR_EVENTS_CHANNEL) return;
      const event = parseOperatorEvent(message);
      if (event !== undefined) this.fanOut(event);
    });
    const viewers = options.viewers;
    this.sampler = viewers
      ? new ViewerSampler(
          () => sampleViewers(viewers),
          (changed) => this.fanOut({ type: 'viewers', viewers: changed }),
          options.sampleMs,
          options.log,
        )
      : undefined;
  }

  get connections(): number {
    return this.queues.size;
  }

  /** True while viewer counts are being sampled (some connection is open). */
  get sampling(): boolean {
    return this.sampler?.running ?? false;
  }

  /**
   * A new connection's queue, once the channel is subscribed (so nothing published after the `sync` is missed) and
   * the viewer baseline is read (so a change after the page's first full read is not taken for the baseline);
   * undefined when MAX_CONNECTIONS are open (the server answers 503 and the page polls).
   */
  async open(limit?: number): Promise<EventQueue<QueuedEvent> | undefined> {
    if (this.queues.size >= MAX_CONNECTIONS) return undefined;
    this.subscribed ??= this.subscriber.subscribe(OPERATOR_EVENTS_CHANNEL).catch((error: unknown) => {
      this.subscribed = undefined;
      throw error;
    });
    await this.subscribed;
    const queue = new EventQueue<QueuedEvent>(limit);
    this.queues.add(queue);
    await this.sampler?.start();
    return queue;
  }

  close(queue: EventQueue<QueuedEvent>): void {
    queue.close();
    this.forget(queue);
  }

  private forget(queue: EventQueue<QueuedEvent>): void {
    this.queues.delete(queue);
    if (this.queues.size === 0) this.sampler?.stop();
  }

  private fanOut(event: RelayedEvent): void {
    const queued = { seq: ++this.seq, event };
    for (const queue of this.queues) if (!queue.push(queued)) this.forget(queue);
  }
}
