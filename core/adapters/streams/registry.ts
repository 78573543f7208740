import { randomBytes } from 'node:crypto';
import { DomainError } from '../../api/errors.js';
import type { LadderPreset } from '../../ladder.js';
import type { LatencyProfile } from '../../latency-profiles.js';
import { liveKeys } from '../../live/keys.js';
import type { RedisPort as Redis } from '../../resp/port.js';
import { channels, streamKeys, taskKeys } from '../../streams/keys.js';
import {
  type IngestCommand,
  type IngestProtocol,
  legacySecrets,
  parseStreamRecord,
  type RtpSettings,
  type SrtLatency,
  type StreamChange,
  type StreamCredentials,
  StreamId,
  StreamRecord,
  type Visibility,
} from '../../streams/schema.js';
import type { DataKeyProvider, StreamSecret } from '../../streams/secrets.js';
import { IngestStatus, TaskReport } from '../../streams/status.js';
import { definedOnly, deriveId, hashInput, parseJson } from './registry-support.js';
import { newCredentials, rotateParts, rtpSettings, shown } from './rtp-streams.js';
import { CAS_SCRIPT, type StoredSecret, StreamSecretStore } from './secret-store.js';

/** A typed registry failure, mapped to an HTTP status by the API edge. `field` names the input at fault. */
export class RegistryError extends DomainError {
  constructor(
    override readonly code: 'not_found' | 'conflict' | 'invalid',
    message: string,
    field?: string,
  ) {
    super(code, message, field);
  }
}

export interface CreateStreamInput {
  /** Optional: a slug is derived from the name when absent. */
  readonly id?: string;
  readonly name: string;
  readonly ladder: LadderPreset;
  readonly latency: SrtLatency;
  /** Delivery profile (decision D28); DEFAULT_LATENCY_PROFILE when absent. */
  readonly latencyProfile?: LatencyProfile;
  /** Generate an SRT passphrase (AES); false = unencrypted ingest. */
  readonly encrypted: boolean;
  readonly keyLength: 16 | 24 | 32;
  /** Who may watch (decision D36); absent reads as public. */
  readonly visibility?: Visibility;
  /** Record each broadcast (decision D40); true when absent. */
  readonly record?: boolean;
  /** Contribution protocol (decision D46); srt when absent. */
  readonly protocol?: IngestProtocol;
  /** RTP streams: payload and plain-RTP allow-list; `{ payload: 'mp2t' }` when absent. Refused for SRT streams. */
  readonly rtp?: RtpSettings;
  /** Idempotency: the same token with the same input returns the same stream. */
  readonly clientToken?: string;
}

export interface UpdateStreamInput {
  readonly name?: string;
  readonly ladder?: LadderPreset;
  readonly latency?: SrtLatency;
  readonly latencyProfile?: LatencyProfile;
  readonly visibility?: Visibility;
  readonly record?: boolean;
}

export interface RotateInput {
  readonly publishKey: boolean;
  readonly passphrase: boolean;
  /** RTP streams: a new SRTP key, their only credential (rotateParts, rtp-streams.ts); default true. */
  readonly srtpKey?: boolean;
}

export interface ListPage {
  readonly streams: StreamRecord[];
  /** Opaque; absent on the last page. */
  readonly nextCursor?: string;
}

/** Client tokens are remembered for a day, like most cloud APIs' idempotency windows. */
export const CLIENT_TOKEN_TTL_S = 24 * 3600;

/** A new registry epoch: random, so a registry rebuilt after a data loss never repeats the lost one by chance. */
const newEpoch = (): string => randomBytes(8).toString('hex');

/** What create answers: the credentials only when this call issued them (a replay gets none, decision D38). */
export interface CreateResult {
  readonly record: StreamRecord;
  readonly created: boolean;
  /** SRT: publish key and passphrase; RTP: `srtpKey` (null: plain RTP) and a null passphrase (rtp-streams.ts). */
  readonly credentials?: Partial<StreamCredentials>;
}

/** What rotate answers: the new credentials; a part not rotated is absent (it cannot be read back). */
export interface RotateResult {
  readonly record: StreamRecord;
  readonly credentials: Partial<StreamCredentials>;
}

export interface StreamRegistryOptions {
  /**
   * Seals new passphrases (the control side: KMS GenerateDataKey on AWS, the local key file in the embedded
   * default). Without it, processDataKeys: only this process can open what it seals (tests, in-process tools).
   */
  readonly keys?: DataKeyProvider;
}

/**
 * The stream registry in Redis: public records, their secrets apart (decision D38), the creation-ordered index,
 * and a change notification on every write (ingest tasks follow it to refresh their native admission table).
 */
export class StreamRegistry {
  private readonly secrets: StreamSecretStore;

  constructor(
    private readonly redis: Redis,
    private readonly now: () => Date = () => new Date(),
    options: StreamRegistryOptions = {},
  ) {
    this.secrets = new StreamSecretStore(redis, options.keys);
  }

  async create(input: CreateStreamInput): Promise<CreateResult> {
    const requestHash = hashInput(input);
    if (input.clientToken !== undefined) {
      const replay = await this.replay(input.clientToken, requestHash);
      if (replay) return { record: replay, created: false };
    }
    const at = this.now().toISOString();
    const id = input.id ?? deriveId(input.name);
    const rtp = rtpSettings(input);
    const credentials = newCredentials(input.encrypted, rtp);
    const secret = await this.secrets.issue(id, credentials, 1);
    const record = StreamRecord.parse({
      id,
      name: input.name,
      ladder: input.ladder,
      latency: input.latency,
      latencyProfile: input.latencyProfile,
      encrypted: rtp ? credentials.srtpKey !== null : input.encrypted,
      keyLength: rtp ? 16 : input.keyLength,
      visibility: input.visibility,
      record: input.record,
      ...(rtp ? { protocol: 'rtp', rtp } : {}),
      createdAt: at,
      updatedAt: at,
    });
    const json = JSON.stringify(record);
    const stored = await this.redis.set(streamKeys.record(id), json, 'NX');
    if (stored === null) throw new RegistryError('conflict', `stream ${id} already exists`, 'id');
    if (input.clientToken !== undefined) {
      const claimed = await this.redis.set(
        streamKeys.clientToken(input.clientToken),
        JSON.stringify({ streamId: id, requestHash, generation: secret.generation }),
        'EX',
        CLIENT_TOKEN_TTL_S,
        'NX',
      );
      if (claimed === null) {
        // A concurrent call with the same token won: undo ours and answer with theirs.
        await this.redis.del(streamKeys.record(id));
        const replay = await this.replay(input.clientToken, requestHash);
        if (replay) return { record: replay, created: false };
        throw new RegistryError('conflict', 'clientToken is in use by a concurrent request', 'clientToken');
      }
    }
    await this.redis
      .multi()
      .zadd(streamKeys.index, Date.parse(at), id)
      .set(streamKeys.secret(id), JSON.stringify(secret))
      .set(streamKeys.epoch, newEpoch(), 'NX')
      .publish(channels.streamChanges, change('upsert', id))
      .exec();
    return { record, created: true, credentials: shown(record, credentials) };
  }

  /** Where a stream's secrets are (the control's rotate reads them back; the ingest's follower opens them). */
  secret(id: string): Promise<StoredSecret | undefined> {
    return this.secrets.read(id);
  }

  /** Moves records written before D38 to the split form (StreamSecretStore.migrateLegacy); idempotent. */
  async migrateLegacySecrets(): Promise<number> {
    return this.secrets.migrateLegacy(await this.redis.zrange(streamKeys.index, '0', '-1'));
  }

  /** The registry's epoch (streamKeys.epoch), null when none is stored: no stream yet, or the data set was lost. */
  epoch(): Promise<string | null> {
    return this.redis.get(streamKeys.epoch);
  }

  /**
   * The epoch, written first if missing (NX: every caller agrees on the first one written). For registries from
   * before epochs, which have streams but none.
   */
  async ensureEpoch(): Promise<string> {
    const candidate = newEpoch();
    await this.redis.set(streamKeys.epoch, candidate, 'NX');
    return (await this.epoch()) ?? candidate;
  }

  /**
   * Writes records back after Redis lost its data set (an ingest task held them in memory), each only where nothing
   * is stored under its keys now, with the epoch they were read under. Returns how many records were written.
   */
  async restore(
    records: readonly StreamRecord[],
    epoch: string = newEpoch(),
    secrets: ReadonlyMap<string, StreamSecret> = new Map(),
  ): Promise<number> {
    let written = 0;
    for (const record of records) {
      const tx = this.redis
        .multi()
        .set(streamKeys.record(record.id), JSON.stringify(record), 'NX')
        .zadd(streamKeys.index, 'NX', Date.parse(record.createdAt), record.id);
      const secret = secrets.get(record.id);
      if (secret) tx.set(streamKeys.secret(record.id), JSON.stringify(secret), 'NX');
      const [[, stored] = []] = (await tx.exec()) ?? [];
      if (stored === 'OK') written++;
    }
    await this.redis.set(streamKeys.epoch, epoch, 'NX');
    return written;
  }

  private async replay(clientToken: string, requestHash: string): Promise<StreamRecord | undefined> {
    const raw = await this.redis.get(streamKeys.clientToken(clientToken));
    if (raw === null) return undefined;
    // A replay answers the stream without credentials, rotated since or not: the key is kept only as its hash and
    // the passphrase sealed for the ingest, so nothing can be shown twice, and never newer ones (decision D38).
    const prior = JSON.parse(raw) as { streamId: string; requestHash: string };
    if (prior.requestHash !== requestHash) {
      throw new RegistryError('conflict', 'clientToken was used with different parameters', 'clientToken');
    }
    const record = await this.get(prior.streamId);
    if (!record) {
      throw new RegistryError('conflict', 'clientToken refers to a stream that was deleted', 'clientToken');
    }
    return record;
  }

  async get(id: string): Promise<StreamRecord | undefined> {
    if (!StreamId.safeParse(id).success) return undefined;
    const raw = await this.redis.get(streamKeys.record(id));
    return raw === null ? undefined : parseStreamRecord(JSON.parse(raw));
  }

  /** Records of several streams in one round trip; undefined where a stream does not exist. */
  async getMany(ids: readonly string[]): Promise<(StreamRecord | undefined)[]> {
    const valid = ids.map((id) => StreamId.safeParse(id).success);
    const wanted = ids.filter((_, i) => valid[i]);
    const raws = wanted.length > 0 ? await this.redis.mget(wanted.map((id) => streamKeys.record(id))) : [];
    let next = 0;
    return ids.map((_, i) => {
      if (!valid[i]) return undefined;
      const raw = raws[next++];
      return raw ? parseStreamRecord(JSON.parse(raw)) : undefined;
    });
  }

  async require(id: string): Promise<StreamRecord> {
    const record = await this.get(id);
    if (!record) throw new RegistryError('not_found', `stream ${id} does not exist`, 'streamId');
    return record;
  }

  /** Streams in creation order. The cursor survives deletions of the stream it points at. */
  async list(limit: number, cursor?: string): Promise<ListPage> {
    let start = 0;
    if (cursor !== undefined) {
      const position = decodeCursor(cursor);
      const rank = await this.redis.zrank(streamKeys.index, position.id);
      start =
        rank !== null
          ? rank + 1
          : // The cursor's stream was deleted: count what sorts before or at its position.
            (await this.redis.zcount(streamKeys.index, '-inf', `(${position.score}`)) +
            (
              await this.redis.zrangebyscore(streamKeys.index, String(position.score), String(position.score))
            ).filter((id) => id <= position.id).length;
    }
    const ids = await this.redis.zrange(streamKeys.index, String(start), String(start + limit));
    const page = ids.slice(0, limit);
    const raws = page.length > 0 ? await this.redis.mget(page.map((id) => streamKeys.record(id))) : [];
    const streams = raws.flatMap((raw) => (raw === null ? [] : [parseStreamRecord(JSON.parse(raw))]));
    const last = streams.at(-1);
    return ids.length > limit && last
      ? { streams, nextCursor: encodeCursor({ id: last.id, score: Date.parse(last.createdAt) }) }
      : { streams };
  }

  async update(id: string, patch: UpdateStreamInput): Promise<StreamRecord> {
    const record = await this.mutate(id, (current) => ({ ...current, ...definedOnly(patch) }));
    await this.redis.publish(channels.streamChanges, change('upsert', id));
    return record;
  }

  /** New publish key and/or passphrase (SRT), or SRTP key (RTP). The old key stops resolving at once. */
  async rotate(id: string, what: RotateInput): Promise<RotateResult> {
    const found = await this.secrets.read(id);
    if (found === undefined) throw new RegistryError('not_found', `stream ${id} does not exist`, 'streamId');
    const rtp = (await this.require(id)).protocol === 'rtp';
    const { issued, secret } = await this.secrets.rotate(id, found, rotateParts(id, rtp, found, what));
    // Rewritten through the schema: a record written before D38 loses its inline secrets here.
    const record = await this.mutate(id, (current) => ({
      ...current,
      encrypted: rtp ? (secret.srtp ?? null) !== null : secret.passphrase !== null,
    }));
    if (found.legacyKey !== undefined) await this.redis.del(streamKeys.byPublishKey(found.legacyKey));
    // Announced after the secret is current, so a subscriber re-reading sees the new key.
    await this.redis.publish(channels.streamChanges, change('upsert', id));
    return { record, credentials: shown(record, issued) };
  }

  private async mutate(id: string, apply: (record: StreamRecord) => StreamRecord): Promise<StreamRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = await this.redis.get(streamKeys.record(id));
      if (raw === null) throw new RegistryError('not_found', `stream ${id} does not exist`, 'streamId');
      // A record written before D38 moves its secrets apart first: rewriting it through the schema would drop them.
      if (legacySecrets(JSON.parse(raw)) !== undefined) {
        await this.secrets.migrateLegacy([id]);
        continue;
      }
      const next = StreamRecord.parse({
        ...apply(parseStreamRecord(JSON.parse(raw))),
        updatedAt: this.now().toISOString(),
      });
      const swapped = await this.redis.eval(CAS_SCRIPT, 1, streamKeys.record(id), raw, JSON.stringify(next));
      if (swapped === 1) return next;
    }
    throw new RegistryError('conflict', `stream ${id} is being changed concurrently; retry`, 'streamId');
  }

  /**
   * Removes the stream's keys and kicks its publisher. Media in S3 expires through lifecycle rules. The live state
   * goes too, so a stream created again with this id starts a timeline of its own instead of resuming this one's
   * window; its media names differ anyway (a new broadcast, decision D16).
   */
  async delete(id: string): Promise<StreamRecord> {
    const found = await this.secrets.read(id);
    const record = await this.require(id);
    const tx = this.redis.multi();
    if (found?.legacyKey !== undefined) tx.del(streamKeys.byPublishKey(found.legacyKey));
    await tx
      .del(streamKeys.record(id))
      .del(streamKeys.secret(id))
      .zrem(streamKeys.index, id)
      .del(streamKeys.status(id))
      .del(streamKeys.broadcasts(id))
      .del(liveKeys.stream(id))
      .del(liveKeys.sequences(id))
      .zrem(liveKeys.streams, id)
      .publish(channels.streamChanges, change('delete', id))
      .publish(channels.ingestCommands, command(id, 'stream deleted'))
      .exec();
    return record;
  }

  /**
   * Pause (true) or resume (false) the stream (decision D32): the record's flag first (a task that opens the stream
   * later reads it), then the change and the command to the task publishing it now. 409 naming `paused` when the
   * stream already is so.
   */
  async setPaused(id: string, paused: boolean): Promise<StreamRecord> {
    const record = await this.mutate(id, (current) => {
      if ((current.paused === true) === paused) {
        const state = paused ? 'already paused' : 'not paused';
        throw new RegistryError('conflict', `paused: stream ${id} is ${state}`, 'paused');
      }
      return { ...current, paused };
    });
    const type = paused ? 'pause' : 'resume';
    await this.redis
      .multi()
      .publish(channels.streamChanges, change('upsert', id))
      .publish(channels.ingestCommands, JSON.stringify({ type, streamId: id } satisfies IngestCommand))
      .exec();
    return record;
  }

  /**
   * Asks the task publishing the stream to restart its transcode (the encoder stays connected). 409 naming `state`
   * when no task holds the stream's publisher lease (nothing runs to restart). Resolves to the listening tasks.
   */
  async restart(id: string): Promise<number> {
    await this.require(id);
    if ((await this.leaseHolder(id)) === undefined) {
      throw new RegistryError(
        'conflict',
        `state: stream ${id} is not live (no encoder is connected)`,
        'state',
      );
    }
    const restart: IngestCommand = { type: 'restart', streamId: id };
    return this.redis.publish(channels.ingestCommands, JSON.stringify(restart));
  }

  /** Asks the ingest task holding the publisher to drop it. Resolves to the number of listening tasks. */
  async disconnect(id: string, reason: string): Promise<number> {
    await this.require(id);
    return this.redis.publish(channels.ingestCommands, command(id, reason));
  }

  async status(id: string): Promise<IngestStatus | undefined> {
    const raw = await this.redis.get(streamKeys.status(id));
    return parseJson(raw, IngestStatus);
  }

  async statuses(ids: readonly string[]): Promise<(IngestStatus | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => streamKeys.status(id)));
    return raws.map((raw) => parseJson(raw, IngestStatus));
  }

  /** Which task holds the publisher lease, if any. */
  async leaseHolder(id: string): Promise<string | undefined> {
    return (await this.redis.get(streamKeys.lease(id))) ?? undefined;
  }

  /** Task reports seen within maxAgeMs (reports have their own TTL; the index is pruned here). */
  async tasks(maxAgeMs = 30_000): Promise<TaskReport[]> {
    const since = this.now().getTime() - maxAgeMs;
    await this.redis.zremrangebyscore(taskKeys.index, '-inf', `(${since}`);
    const ids = await this.redis.zrange(taskKeys.index, '0', '-1');
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => taskKeys.report(id)));
    return raws.flatMap((raw) => {
      const report = parseJson(raw, TaskReport);
      return report ? [report] : [];
    });
  }
}

export { deriveId } from './registry-support.js';
export { publicView, type SrtEndpoint, srtUrls } from './views.js';

function change(type: StreamChange['type'], streamId: string): string {
  return JSON.stringify({ type, streamId } satisfies StreamChange);
}

function command(streamId: string, reason: string): string {
  return JSON.stringify({ type: 'disconnect', streamId, reason } satisfies IngestCommand);
}

function encodeCursor(position: { id: string; score: number }): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string): { id: string; score: number } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { id?: unknown }).id === 'string' &&
      Number.isFinite((value as { score?: unknown }).score)
    ) {
      return value as { id: string; score: number };
    }
  } catch {
    // fall through
  }
  throw new RegistryError('invalid', 'cursor is not one this API returned', 'cursor');
}
