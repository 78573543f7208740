import type { RedisPort as Redis } from '../../resp/port.js';
import { BROADCAST_HISTORY, BroadcastEntry, type BroadcastLog } from '../../streams/broadcasts.js';
import { streamKeys } from '../../streams/keys.js';

// Push only while the stream record exists: a publish that outlives its stream's deletion (the disconnect command
// is on its way) must not leave a list behind without TTL. LTRIM caps the list in the same step.
const START_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
return 1`;

// Sets endedAt on the entry with this id (one of the few newest: a broadcast ends soon after newer ones start, if
// any). An entry that is gone (trimmed, or the stream deleted) is left alone: no key is created.
const END_SCRIPT = `
local entries = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
for i, raw in ipairs(entries) do
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and entry.id == ARGV[1] then
    entry.endedAt = ARGV[2]
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(entry))
    return 1
  end
end
return 0`;

export interface BroadcastLogOptions {
  /** Entries kept per stream (default BROADCAST_HISTORY). */
  readonly limit?: number;
  /** Stamped on the entries this process starts (an ingest task: which task's logs to read). */
  readonly taskId?: string;
}

/** The stream's broadcast log in Redis: a capped list without TTL at `mirror:broadcasts:{id}`. */
export class RedisBroadcastLog implements BroadcastLog {
  private readonly limit: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: BroadcastLogOptions = {},
  ) {
    this.limit = options.limit ?? BROADCAST_HISTORY;
  }

  async started(streamId: string, entry: BroadcastEntry): Promise<void> {
    const taskId = entry.taskId ?? this.options.taskId;
    await this.redis.eval(
      START_SCRIPT,
      2,
      streamKeys.record(streamId),
      streamKeys.broadcasts(streamId),
      JSON.stringify(BroadcastEntry.parse({ ...entry, ...(taskId === undefined ? {} : { taskId }) })),
      String(this.limit),
    );
  }

  async ended(streamId: string, id: string, endedAt: string): Promise<void> {
    await this.redis.eval(END_SCRIPT, 1, streamKeys.broadcasts(streamId), id, endedAt, String(this.limit));
  }

  /** Newest first; entries that do not parse are skipped. */
  async list(streamId: string): Promise<BroadcastEntry[]> {
    const raws = await this.redis.lrange(streamKeys.broadcasts(streamId), 0, this.limit - 1);
    return raws.flatMap((raw) => {
      try {
        const parsed = BroadcastEntry.safeParse(JSON.parse(raw));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
