import { LIVE_PREFIX } from '../../live/keys.js';
import type { PartStore } from '../../packager/part-store.js';
import type { RedisPort as Redis } from '../../resp/port.js';

/** A part's key: under the live state's prefix (decision D5), named by its media key (unique per broadcast, D16). */
export const partKey = (mediaKey: string): string => `${LIVE_PREFIX}part:${mediaKey}`;

/**
 * Parts in the live state's Redis (decision D33): one binary string per part, written with its expiry in one
 * command (SET PX), read with GETBUFFER (no UTF-8 decoding of media bytes). On the ingest's connection a write
 * precedes the publish that names the part, in order on one connection.
 */
export class RedisPartStore implements PartStore {
  private ready = 0;

  constructor(private readonly redis: Redis) {
    // Every (re)connection: the server may be a restarted or promoted node without the parts written before.
    redis.on('ready', () => {
      this.ready += 1;
    });
  }

  connections(): number {
    return this.ready;
  }

  async put(key: string, bytes: Uint8Array, ttlMs: number): Promise<void> {
    // A Buffer view of the same memory: ioredis writes Buffers as they are, other views would be stringified.
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reply = await this.redis.set(partKey(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
    if (reply !== 'OK') throw new Error(`part store write of ${key} answered ${String(reply)}`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.redis.getBuffer(partKey(key));
    return value === null ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
}
