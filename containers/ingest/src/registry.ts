import type { Redis } from 'ioredis';
import { StreamRegistry } from '../../../core/adapters/streams/registry.js';
import type { Logger } from '../../../core/logger.js';
import { channels, streamKeys } from '../../../core/streams/keys.js';
import { StreamChange, StreamRecord } from '../../../core/streams/schema.js';

/** The part of the Logger port the follower uses. */
export type RegistryLogger = Pick<Logger, 'info' | 'warn'>;

export interface RegistryTarget {
  upsert(record: StreamRecord): void;
  remove(streamId: string): void;
}

/**
 * Follows the stream registry in Redis and mirrors it into the native admission table: all records at start,
 * then every change announced on `mirror:streams:changes` (the message names the stream; the record is re-read,
 * so no secret travels on the channel), and all records again after each reconnect.
 */
export class RegistryFollower {
  private readonly records = new Map<string, StreamRecord>();
  private readonly registry: StreamRegistry;
  /** The registry's epoch when last read (streamKeys.epoch); null before the first stream exists. */
  private epoch: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly target: RegistryTarget,
    private readonly log: RegistryLogger,
  ) {
    this.registry = new StreamRegistry(redis);
  }

  get(streamId: string): StreamRecord | undefined {
    return this.records.get(streamId);
  }

  get size(): number {
    return this.records.size;
  }

  async start(): Promise<void> {
    // Subscribe first so a change racing the initial load is not lost (it is applied after, idempotently).
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== channels.streamChanges) return;
      this.onChange(message).catch((error: unknown) =>
        this.log.warn('registry change not applied', { error: String(error) }),
      );
    });
    await this.subscriber.subscribe(channels.streamChanges);
    await this.load();
    this.log.info('registry loaded', { streams: this.records.size });
    // ioredis resubscribes after a reconnect, but changes published meanwhile are gone: read everything again.
    this.subscriber.on('ready', () => {
      this.resync().catch((error: unknown) =>
        this.log.warn('registry not resynchronised after a reconnect', { error: String(error) }),
      );
    });
  }

  /**
   * After a reconnect: applies what changed while the subscription was down (records updated, created or deleted).
   * If the registry's epoch is gone, Redis lost its data set (a failover without a replica, a node replaced): the
   * records this task holds are written back instead of being taken for deletions, so publishers keep their
   * streams and operators their keys (every task holds every record, so any one of them restores the registry).
   */
  async resync(): Promise<void> {
    const epoch = await this.registry.epoch();
    // Any stream record implies an epoch (written with the first stream, or by load() for an older registry), so
    // none while this task holds records means the data set is gone, whether or not this task ever read the epoch
    // (it may have started before the first stream existed).
    if (epoch === null && this.records.size > 0) {
      const written = await this.registry.restore([...this.records.values()], this.epoch ?? undefined);
      this.log.warn('stream registry restored after Redis lost its data', {
        streams: this.records.size,
        written,
      });
    }
    await this.load();
  }

  /** Every record in the index, and the removal of those this task holds that are no longer there. */
  private async load(): Promise<void> {
    const ids = await this.redis.zrange(streamKeys.index, '0', '-1');
    for (const id of ids) await this.refresh(id);
    const listed = new Set(ids);
    for (const id of [...this.records.keys()]) {
      if (listed.has(id)) continue;
      this.records.delete(id);
      this.target.remove(id);
    }
    // A registry from before epochs gets one now.
    this.epoch = ids.length > 0 ? await this.registry.ensureEpoch() : await this.registry.epoch();
  }

  async refresh(streamId: string): Promise<void> {
    const raw = await this.redis.get(streamKeys.record(streamId));
    if (raw === null) {
      this.records.delete(streamId);
      this.target.remove(streamId);
      return;
    }
    const parsed = StreamRecord.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      this.log.warn('stream record ignored: does not match the schema', {
        streamId,
        issues: parsed.error.issues.map((i) => i.path.join('.')),
      });
      return;
    }
    this.records.set(streamId, parsed.data);
    this.target.upsert(parsed.data);
  }

  private async onChange(message: string): Promise<void> {
    const change = StreamChange.safeParse(JSON.parse(message));
    if (!change.success) return;
    if (change.data.type === 'delete') {
      this.records.delete(change.data.streamId);
      this.target.remove(change.data.streamId);
      return;
    }
    await this.refresh(change.data.streamId);
  }
}
