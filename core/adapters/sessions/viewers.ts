import type { RedisPort as Redis } from '../../resp/port.js';
import { KEY_PREFIX } from '../../streams/keys.js';

/**
 * Per-stream viewer counts: a sorted set per stream of session ids scored by the session's expiry (ms).
 * A session counts while its score is in the future, so counts need no clean-up job to stay right.
 */
export const viewerKeys = {
  byStream: (streamId: string) => `${KEY_PREFIX}viewers:${streamId}`,
} as const;

/** A viewer set outlives its newest session by this much, then disappears on its own. */
const VIEWER_SET_GRACE_MS = 60_000;

/** The viewer sets a session leaves and joins when its streams go from `before` to `after`. */
export function viewingChange(
  before: readonly string[],
  after: readonly string[],
): { readonly leave: string[]; readonly join: string[] } {
  return {
    leave: [...new Set(before)].filter((s) => !after.includes(s)).map(viewerKeys.byStream),
    join: [...new Set(after)].map(viewerKeys.byStream),
  };
}

/**
 * Lua `apply_viewing(first, leave, session, expires, now)`: removes `session` from KEYS[first .. first+leave-1]
 * and adds it, scored `expires`, to the rest of KEYS (from viewingChange), dropping members expired before
 * `now`. One definition for setViewing and for the session store's write script, which must change the sets
 * in the same atomic step as the record.
 */
export const APPLY_VIEWING_LUA = `
local function apply_viewing(first, leave, session, expires, now)
  for i = first, first + leave - 1 do
    redis.call('ZREM', KEYS[i], session)
  end
  for i = first + leave, #KEYS do
    redis.call('ZADD', KEYS[i], expires, session)
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. now)
    redis.call('PEXPIREAT', KEYS[i], expires + ${VIEWER_SET_GRACE_MS})
  end
end
`;

const SET_VIEWING = `${APPLY_VIEWING_LUA}
apply_viewing(1, tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4])
return 1`;

export async function setViewing(
  redis: Redis,
  sessionId: string,
  before: readonly string[],
  after: readonly string[],
  expiresAtMs: number,
): Promise<void> {
  const { leave, join } = viewingChange(before, after);
  const keys = [...leave, ...join];
  if (keys.length === 0) return;
  await redis.eval(
    SET_VIEWING,
    keys.length,
    ...keys,
    String(leave.length),
    sessionId,
    String(expiresAtMs),
    String(Date.now()),
  );
}

export async function viewerCounts(redis: Redis, streamIds: readonly string[], nowMs = Date.now()) {
  if (streamIds.length === 0) return [];
  const tx = redis.multi();
  for (const id of streamIds) tx.zcount(viewerKeys.byStream(id), nowMs, '+inf');
  const results = (await tx.exec()) ?? [];
  return results.map(([error, count]) => (error ? 0 : Number(count)));
}
