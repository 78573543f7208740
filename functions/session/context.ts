import type { Redis } from 'ioredis';
import { SessionStore } from '../../core/adapters/sessions/store.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { type SessionAccess, sessionAccess } from './access.js';
import { type SessionAllocation, sessionAllocation } from './allocation.js';
import { type SessionResponder, sessionResponder } from './respond.js';

/** What every session route shares: the stores, token checks, the allocator and how a session is answered. */
export interface SessionContext extends SessionAllocation, SessionAccess {
  readonly registry: StreamRegistry;
  readonly store: SessionStore;
  readonly respond: SessionResponder;
  /** HMAC secret for session and playback tokens. */
  readonly secret: string;
  readonly now: () => number;
}

export interface SessionContextDeps {
  readonly redis: Redis;
  readonly secret: string;
  readonly playbackProtection?: boolean;
  readonly now: () => number;
}

export function sessionContext({
  redis,
  secret,
  playbackProtection,
  now,
}: SessionContextDeps): SessionContext {
  const registry = new StreamRegistry(redis, () => new Date(now()));
  const store = new SessionStore(redis);
  const respond = sessionResponder({ secret, playbackProtection, now });
  return {
    registry,
    store,
    respond,
    secret,
    now,
    ...sessionAllocation(registry, now),
    ...sessionAccess({ secret, store, respond, now }),
  };
}
