import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import type { HttpRequest } from '../../core/http.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { createSessionApp, type SessionDeps } from '../../functions/session/app.js';
import { capturingLogger, request } from '../control/helpers.js';

export const SECRET = 'test-session-secret-0123456789abcdef';

/** A playback key (D37) and the KeyValueStore lookup the edge function reads it through. */
export const PLAYBACK_KEY = { kid: 'test0001', secret: 'test-playback-key-0123456789abcdefghijklmn' };
export const playbackStore = (key: string) =>
  key === `playback-key-${PLAYBACK_KEY.kid}` ? PLAYBACK_KEY.secret : undefined;
/** Playback protection on, signing with PLAYBACK_KEY. */
export const PROTECTED = { playbackSigner: () => PLAYBACK_KEY };

/** Rate limits high enough not to hide what a test looks at behind 429s (the limiter has its own test). */
export const UNLIMITED = { perSecond: 1_000_000, burst: 1_000_000 };

/** The session app on `redis` with the test secret; `deps` adds or replaces dependencies. */
export function sessionApp(redis: Redis, deps: Partial<SessionDeps> = {}) {
  return createSessionApp({ redis, logger: capturingLogger([]), secret: SECRET, ...deps });
}

/** Registers streams as an operator would (full ladder, low latency); `name` derives each one's name. */
export async function createStreams(
  redis: Redis,
  ids: readonly string[],
  name: (id: string) => string = (id) => id,
): Promise<void> {
  const registry = new StreamRegistry(redis);
  for (const id of ids) {
    await registry.create({
      id,
      name: name(id),
      ladder: 'full',
      latency: 'low',
      encrypted: true,
      keyLength: 16,
    });
  }
}

/** A viewer's call carrying a session token (an empty token: none). */
export function withToken(token: string, method: string, path: string, body?: unknown): HttpRequest {
  return { ...request(method, path, body, { authorization: `Bearer ${token}` }), sourceIp: '10.0.0.1' };
}
