import { SessionStore } from '../../core/adapters/sessions/store.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import type { EntitlementVerifier } from '../../core/auth/keys.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { type SessionAccess, sessionAccess } from './access.js';
import { type SessionAllocation, sessionAllocation } from './allocation.js';
import { type EntitlementOf, entitlementReader } from './entitlements.js';
import { type PlaybackSigner, type SessionResponder, sessionResponder } from './respond.js';

/** What every session route shares: the stores, token checks, the allocator and how a session is answered. */
export interface SessionContext extends SessionAllocation, SessionAccess {
  readonly registry: StreamRegistry;
  readonly store: SessionStore;
  readonly respond: SessionResponder;
  /** HMAC secret for session tokens. */
  readonly secret: string;
  readonly now: () => number;
  /** The viewer's entitlement for private streams, from its header (decision D36). */
  readonly entitlementOf: EntitlementOf;
}

export interface SessionContextDeps {
  readonly redis: Redis;
  readonly secret: string;
  readonly playbackSigner?: PlaybackSigner;
  readonly verifyEntitlement?: EntitlementVerifier;
  readonly now: () => number;
}

export function sessionContext({
  redis,
  secret,
  playbackSigner,
  verifyEntitlement,
  now,
}: SessionContextDeps): SessionContext {
  const registry = new StreamRegistry(redis, () => new Date(now()));
  const store = new SessionStore(redis);
  const respond = sessionResponder({ playbackSigner, now });
  return {
    registry,
    store,
    respond,
    secret,
    now,
    entitlementOf: entitlementReader(verifyEntitlement),
    ...sessionAllocation(registry, now),
    ...sessionAccess({ secret, store, respond, now }),
  };
}
