import type { Logger } from '../logger.js';
import type { RedisPort as Redis } from '../resp/port.js';
import { KEY_PREFIX } from '../streams/keys.js';

/** Redis stream holding the audit trail of state-changing control calls (capped, newest last). */
export const AUDIT_STREAM = `${KEY_PREFIX}audit`;
export const AUDIT_MAX_ENTRIES = 10_000;

export interface AuditEntry {
  /** Principal: IAM ARN on AWS, `local-operator` for the embedded default's bearer token. */
  readonly who: string;
  /** Operation id, e.g. `createStream`. */
  readonly action: string;
  /** What was acted on, e.g. a stream id; never a secret. */
  readonly target: string;
  /** HTTP status of the outcome. */
  readonly status: number;
  readonly at: string;
}

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    this.logger.info('audit', { audit: entry });
    await this.redis.xadd(
      AUDIT_STREAM,
      'MAXLEN',
      '~',
      AUDIT_MAX_ENTRIES,
      '*',
      'who',
      entry.who,
      'action',
      entry.action,
      'target',
      entry.target,
      'status',
      String(entry.status),
      'at',
      entry.at,
    );
  }

  /** Newest first. */
  async recent(limit: number): Promise<(AuditEntry & { id: string })[]> {
    const rows = await this.redis.xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', limit);
    return rows.map(([id, fields]) => {
      const map: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
      return {
        id,
        who: map.who ?? '',
        action: map.action ?? '',
        target: map.target ?? '',
        status: Number(map.status ?? 0),
        at: map.at ?? '',
      };
    });
  }
}
