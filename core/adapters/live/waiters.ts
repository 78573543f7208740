import { LIVE_PREFIX, liveKeys } from '../../live/keys.js';
import type { StreamSnapshot } from '../../live/state.js';
import type { RedisPort as Redis } from '../../resp/port.js';
import type { LiveState } from './live-state.js';

interface Waiter {
  readonly predicate: (snapshot: StreamSnapshot | undefined) => boolean;
  readonly resolve: (snapshot: StreamSnapshot | undefined) => void;
  readonly reject: (error: unknown) => void;
}

interface StreamWaiters {
  readonly waiters: Set<Waiter>;
  subscribed: Promise<void>;
  refreshing: boolean;
  again: boolean;
}

const NOTIFY_PREFIX = `${LIVE_PREFIX}notify:`;

/**
 * Holds blocking requests until the live state satisfies them. One subscriber connection per process serves every
 * waiter: a stream's channel is subscribed while it has waiters, and a notification triggers one read of the stream
 * shared by all of its waiters (1,000 waiters cost one HGETALL, not 1,000).
 */
export class LiveWaiters {
  private readonly streams = new Map<string, StreamWaiters>();

  constructor(
    private readonly subscriber: Redis,
    private readonly live: LiveState,
  ) {
    subscriber.on('message', (channel: string) => {
      if (channel.startsWith(NOTIFY_PREFIX)) this.refresh(channel.slice(NOTIFY_PREFIX.length));
    });
    // After a reconnect (an outage, a failover) ioredis resubscribes, but wake-ups published while the connection
    // was down are lost: read each waited-on stream once, so a waiter whose part appeared meanwhile is answered
    // now rather than at its timeout. The PING goes after the resubscription (written in the same turn as
    // 'ready'), so its reply means the channels are subscribed again and no later wake-up can slip between.
    subscriber.on('ready', () => {
      if (this.streams.size === 0) return;
      process.nextTick(() => {
        subscriber.ping().then(
          () => {
            for (const streamId of this.streams.keys()) this.refresh(streamId);
          },
          () => undefined,
        );
      });
    });
  }

  /** Number of streams currently subscribed (for tests and metrics). */
  get subscribedStreams(): number {
    return this.streams.size;
  }

  /**
   * Resolves with the first snapshot that satisfies `predicate`, or undefined after `timeoutMs` or on abort.
   * Rejects if Redis fails (the caller answers 503).
   */
  async wait(
    streamId: string,
    predicate: (snapshot: StreamSnapshot | undefined) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamSnapshot | undefined> {
    let entry = this.streams.get(streamId);
    if (entry === undefined) {
      const created: StreamWaiters = {
        waiters: new Set(),
        subscribed: Promise.resolve(),
        refreshing: false,
        again: false,
      };
      created.subscribed = this.subscriber.subscribe(liveKeys.notify(streamId)).then(() => undefined);
      this.streams.set(streamId, created);
      entry = created;
    }
    const current = entry;
    return new Promise<StreamSnapshot | undefined>((resolve, reject) => {
      let done = false;
      const settle = () => {
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        current.waiters.delete(waiter);
        this.release(streamId, current);
      };
      const finish = (snapshot: StreamSnapshot | undefined) => {
        if (done) return;
        settle();
        resolve(snapshot);
      };
      const onAbort = () => finish(undefined);
      const waiter: Waiter = {
        predicate,
        resolve: finish,
        reject: (error) => {
          if (done) return;
          settle();
          reject(error);
        },
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      signal?.addEventListener('abort', onAbort);
      current.waiters.add(waiter);
      // A publish may have landed between the caller's read and this subscription: read once more, shared by every
      // waiter that registered meanwhile (a burst of 1,000 waiters costs a couple of reads).
      current.subscribed.then(
        () => this.refresh(streamId),
        (error: unknown) => waiter.reject(error),
      );
    });
  }

  private release(streamId: string, entry: StreamWaiters): void {
    if (entry.waiters.size > 0 || this.streams.get(streamId) !== entry) return;
    this.streams.delete(streamId);
    this.subscriber.unsubscribe(liveKeys.notify(streamId)).catch(() => undefined);
  }

  private refresh(streamId: string): void {
    const entry = this.streams.get(streamId);
    if (entry === undefined) return;
    if (entry.refreshing) {
      entry.again = true;
      return;
    }
    entry.refreshing = true;
    const run = async (): Promise<void> => {
      do {
        entry.again = false;
        let snapshot: StreamSnapshot | undefined;
        try {
          snapshot = await this.live.read(streamId);
        } catch (error) {
          for (const waiter of [...entry.waiters]) waiter.reject(error);
          continue;
        }
        for (const waiter of [...entry.waiters]) {
          if (waiter.predicate(snapshot)) waiter.resolve(snapshot);
        }
      } while (entry.again);
      entry.refreshing = false;
    };
    void run();
  }
}
