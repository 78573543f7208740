import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { KEY_PREFIX } from '../streams/keys.js';
import { Layout } from './layouts.js';
import { setViewing } from './viewers.js';

/** Sessions live in Redis with a TTL that every heartbeat or update renews. */
export const SESSION_TTL_MS = 60_000;
/** What the viewer is told; several heartbeats fit in one TTL, so one lost heartbeat is harmless. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

export const SessionId = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'must be a session id this API returned');

export const SessionRecord = z.object({
  id: z.string(),
  layout: Layout,
  /** Stream per tile; null = empty tile. Always as long as the layout has tiles. */
  tiles: z.array(z.string().nullable()),
  focus: z.number().int().nullable(),
  createdAt: z.string(),
  expiresAtMs: z.number(),
  allocation: z.object({
    renditions: z.array(z.string().nullable()),
    changedAtMs: z.number(),
  }),
  bandwidthKbps: z.number(),
  /** Device-pixel tile sizes from the last heartbeat. */
  tileSizes: z.array(z.object({ widthPx: z.number(), heightPx: z.number() })),
  /** Tiles that dropped over 10% of their frames since the previous heartbeat. */
  struggling: z.array(z.boolean()).optional(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

export const sessionKey = (id: string) => `${KEY_PREFIX}session:${id}`;

export function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}

export class SessionStore {
  constructor(private readonly redis: Redis) {}

  async get(id: string): Promise<SessionRecord | undefined> {
    const raw = await this.redis.get(sessionKey(id));
    if (raw === null) return undefined;
    const parsed = SessionRecord.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Writes the session with a fresh TTL and keeps the per-stream viewer counts in step. */
  async put(record: SessionRecord, before?: SessionRecord): Promise<void> {
    const ttl = Math.max(1, record.expiresAtMs - Date.now());
    await this.redis.set(sessionKey(record.id), JSON.stringify(record), 'PX', ttl);
    await setViewing(
      this.redis,
      record.id,
      before ? watched(before) : [],
      watched(record),
      record.expiresAtMs,
    );
  }

  async delete(record: SessionRecord): Promise<void> {
    await this.redis.del(sessionKey(record.id));
    await setViewing(this.redis, record.id, watched(record), [], 0);
  }
}

function watched(record: SessionRecord): string[] {
  return record.tiles.filter((t): t is string => t !== null);
}
