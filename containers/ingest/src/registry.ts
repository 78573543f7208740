import type { Redis } from 'ioredis';
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
 * so no secret travels on the channel).
 */
export class RegistryFollower {
  private readonly records = new Map<string, StreamRecord>();

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly target: RegistryTarget,
    private readonly log: RegistryLogger,
  ) {}

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
    const ids = await this.redis.zrange(streamKeys.index, '0', '-1');
    for (const id of ids) await this.refresh(id);
    this.log.info('registry loaded', { streams: this.records.size });
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
