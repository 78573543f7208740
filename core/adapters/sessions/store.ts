import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../../api/errors.js';
import type { RedisPort as Redis } from '../../resp/port.js';
import { Layout } from '../../sessions/layouts.js';
import { KEY_PREFIX } from '../../streams/keys.js';
import * as z from '../../zod.js';
import { APPLY_VIEWING_LUA, viewingChange } from './viewers.js';

/**
 * Sessions live in Redis with a TTL that every heartbeat or update renews. It outlasts the longest silence of a live
 * viewer (a stable heartbeat, then a retry at the backoff cap, both jittered: 66 s) with a margin of more than one
 * further stable beat, so an API brown-out of about a minute ends no session. The price: a tab that vanished without
 * its DELETE counts as a viewer for up to two minutes.
 */
export const SESSION_TTL_MS = 120_000;
/** Tries of one read-modify-write before the call gives up with a conflict (HTTP 409). */
export const MAX_WRITE_ATTEMPTS = 5;
/**
 * A writer that lost waits a random time before its next try, up to its own last try's duration doubled per
 * loss (capped), so colliding writers spread out over about as long as each needs to read, compute and write.
 */
const RETRY_BACKOFF_CAP_MS = 500;

export const SessionId = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{16}$/, 'must be a session id this API returned'));

/** Built on its first parse (decision D48): initialisation reads no session, a request does. */
export const SessionRecord = z.lazy(() =>
  z.object({
    id: z.string(),
    /**
     * Raised by one on every write; a write lands only if the stored record still has the version it was
     * computed from. Records written before versions existed read as 0.
     */
    version: z._default(z.number().check(z.int(), z.minimum(0)), 0),
    layout: Layout,
    /** Stream per tile; null = empty tile. Always as long as the layout has tiles. */
    tiles: z.array(z.nullable(z.string())),
    focus: z.nullable(z.number().check(z.int())),
    createdAt: z.string(),
    expiresAtMs: z.number(),
    allocation: z.object({
      renditions: z.array(z.nullable(z.string())),
      changedAtMs: z.number(),
    }),
    bandwidthKbps: z.number(),
    /** Device-pixel tile sizes from the last heartbeat. */
    tileSizes: z.array(z.object({ widthPx: z.number(), heightPx: z.number() })),
    /** Tiles that dropped over 10% of their frames since the previous heartbeat. */
    struggling: z.optional(z.array(z.boolean())),
  }),
);
export type SessionRecord = z.infer<typeof SessionRecord>;

export const sessionKey = (id: string) => `${KEY_PREFIX}session:${id}`;

export function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}

/** A session call that could not be applied; the API edge maps `code` to 404 or 409. */
export class SessionError extends DomainError {
  constructor(
    override readonly code: 'not_found' | 'conflict',
    readonly sessionId: string,
    message: string,
  ) {
    super(code, message, 'sessionId');
  }
}

/**
 * Compare-and-set of one session and its viewer-set changes, atomically, so the viewer counts always follow
 * the record that was actually written.
 * KEYS[1] the session; KEYS[2..] viewer sets: the first ARGV[6] to leave, the rest to join.
 * ARGV: [1] expected version ('' = the session must not exist yet), [2] the new record ('' = delete),
 * [3] TTL ms, [4] session id, [5] expiry ms (viewer-set score), [6] sets to leave, [7] now ms.
 * Returns 1 written, 0 conflict (another write came first), -1 gone (expired or ended).
 */
const WRITE_SESSION = `${APPLY_VIEWING_LUA}
local raw = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if raw then return 0 end
else
  if not raw then return -1 end
  local ok, stored = pcall(cjson.decode, raw)
  local version = ok and type(stored) == 'table' and tonumber(stored.version) or 0
  if version ~= tonumber(ARGV[1]) then return 0 end
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
apply_viewing(2, tonumber(ARGV[6]), ARGV[4], tonumber(ARGV[5]), ARGV[7])
return 1`;

type WriteOutcome = 'written' | 'conflict' | 'gone';

/**
 * Sessions in Redis. Every write is optimistic: it names the version it was computed from and lands only if
 * the record still has it; otherwise the record is read again and the change re-applied, so two calls on one
 * session (a heartbeat during an update, a retried request) never write an older record over a newer.
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly maxAttempts = MAX_WRITE_ATTEMPTS,
  ) {}

  async get(id: string): Promise<SessionRecord | undefined> {
    const raw = await this.redis.get(sessionKey(id));
    if (raw === null) return undefined;
    const parsed = SessionRecord.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Stores a new session (version 1) and counts it as a viewer of its streams. */
  async create(record: SessionRecord): Promise<SessionRecord> {
    const written = { ...record, version: 1 };
    if ((await this.write(undefined, written)) !== 'written') {
      throw new SessionError('conflict', record.id, `session ${record.id} already exists`);
    }
    return written;
  }

  /**
   * Read-modify-write: `change` gets the current record and returns the next one (it may throw to refuse).
   * When another call wrote the session in between, the newer record is read and `change` runs again, up to
   * maxAttempts times. `first`, the current record if the caller has just read it, spares one read.
   * Resolves to the record written.
   */
  async update(
    id: string,
    change: (current: SessionRecord) => SessionRecord | Promise<SessionRecord>,
    first?: SessionRecord,
  ): Promise<SessionRecord> {
    return (await this.swap(id, change, first)).after;
  }

  /** Ends the session and removes it from the viewer sets of the streams it held when it ended. */
  async delete(id: string, first?: SessionRecord): Promise<SessionRecord> {
    return (await this.swap(id, () => undefined, first)).before;
  }

  private async swap<T extends SessionRecord | undefined>(
    id: string,
    change: (current: SessionRecord) => T | Promise<T>,
    first?: SessionRecord,
  ): Promise<{ before: SessionRecord; after: T }> {
    let current = first;
    let tookMs = 0;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) {
        await sleep(Math.random() * Math.min(RETRY_BACKOFF_CAP_MS, tookMs * 2 ** (attempt - 2)));
        current = undefined;
      }
      const started = performance.now();
      current ??= await this.get(id);
      if (!current) throw gone(id);
      const next = await change(current);
      const after = (next && { ...next, version: current.version + 1 }) as T;
      const outcome = await this.write(current, after);
      tookMs = performance.now() - started;
      if (outcome === 'written') return { before: current, after };
      if (outcome === 'gone') throw gone(id);
    }
    throw new SessionError(
      'conflict',
      id,
      `session ${id} was changed by other calls ${this.maxAttempts} times while this call was being applied; ` +
        'retry it',
    );
  }

  /** `before` undefined: create; `after` undefined: delete. */
  private async write(
    before: SessionRecord | undefined,
    after: SessionRecord | undefined,
  ): Promise<WriteOutcome> {
    const record = after ?? before;
    if (!record) throw new Error('a session write needs a record');
    const { leave, join } = viewingChange(before ? watched(before) : [], after ? watched(after) : []);
    const expiresAtMs = Math.ceil(record.expiresAtMs);
    const result = await this.redis.eval(
      WRITE_SESSION,
      1 + leave.length + join.length,
      sessionKey(record.id),
      ...leave,
      ...join,
      before ? String(before.version) : '',
      after ? JSON.stringify(after) : '',
      String(Math.max(1, expiresAtMs - Date.now())),
      record.id,
      String(expiresAtMs),
      String(leave.length),
      String(Date.now()),
    );
    return result === 1 ? 'written' : result === 0 ? 'conflict' : 'gone';
  }
}

function gone(id: string): SessionError {
  return new SessionError('not_found', id, `session ${id} does not exist or expired`);
}

function watched(record: SessionRecord): string[] {
  return record.tiles.filter((t): t is string => t !== null);
}
