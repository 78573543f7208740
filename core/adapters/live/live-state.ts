import { LIVE_TTL_S, liveKeys, RENDITION_FIELD_PREFIX } from '../../live/keys.js';
import {
  type LiveStatePort,
  parseRenditionState,
  type RenditionState,
  type SequenceEnd,
  type StreamSnapshot,
  sequenceEnd,
} from '../../live/state.js';
import type { RedisPort as Redis } from '../../resp/port.js';

export interface PublishNotice {
  readonly streamId: string;
  readonly rendition: string;
  readonly msn: number;
  readonly part: number;
}

/**
 * Reads and writes live state. A publish is one MULTI/EXEC (state, expiry, stream index, notification), so a
 * reader sees the whole update or none of it; callers store the media bytes before publishing.
 */
export class LiveState implements LiveStatePort {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number = LIVE_TTL_S,
  ) {}

  async publish(
    streamId: string,
    rendition: string,
    state: RenditionState,
    notice: { msn: number; part: number },
  ): Promise<void> {
    const key = liveKeys.stream(streamId);
    const end = sequenceEnd(state.timeline);
    const tx = this.redis.multi();
    if (end !== undefined) tx.hset(liveKeys.sequences(streamId), rendition, JSON.stringify(end));
    const results = await tx
      .hset(key, liveKeys.renditionField(rendition), JSON.stringify(state))
      .expire(key, this.ttlS)
      .zadd(liveKeys.streams, state.publishedAtMs, streamId)
      .publish(liveKeys.notify(streamId), `${rendition} ${notice.msn} ${notice.part}`)
      .exec();
    const failed = results?.find(([error]) => error !== null);
    if (results === null || failed !== undefined) {
      throw new Error(
        `live state publish for ${streamId}/${rendition} failed: ${String(failed?.[0] ?? 'aborted')}`,
      );
    }
  }

  /** Removes a rendition (its producer ended for good and its playlist should 404). */
  async remove(streamId: string, rendition: string): Promise<void> {
    await this.redis.hdel(liveKeys.stream(streamId), liveKeys.renditionField(rendition));
  }

  async lastSequences(streamId: string, rendition: string): Promise<SequenceEnd | undefined> {
    const raw = await this.redis.hget(liveKeys.sequences(streamId), rendition);
    if (raw === null) return undefined;
    const value = JSON.parse(raw) as Partial<SequenceEnd>;
    return Number.isSafeInteger(value.msn) && Number.isSafeInteger(value.discontinuity)
      ? { msn: value.msn!, discontinuity: value.discontinuity! }
      : undefined;
  }

  /** The whole stream in one round trip (HGETALL); undefined when the stream is not live. */
  async read(streamId: string): Promise<StreamSnapshot | undefined> {
    const hash = await this.redis.hgetall(liveKeys.stream(streamId));
    return snapshotOf(streamId, hash);
  }
}

export function snapshotOf(streamId: string, hash: Record<string, string>): StreamSnapshot | undefined {
  const names = Object.keys(hash)
    .filter((f) => f.startsWith(RENDITION_FIELD_PREFIX))
    .sort();
  if (names.length === 0) return undefined;
  const renditions = new Map<string, RenditionState>();
  for (const field of names) {
    const state = parseRenditionState(hash[field]!);
    if (state !== undefined) renditions.set(field.slice(RENDITION_FIELD_PREFIX.length), state);
  }
  return renditions.size === 0 ? undefined : { streamId, renditions };
}
