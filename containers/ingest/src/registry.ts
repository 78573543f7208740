import type { Redis } from 'ioredis';
import { StreamRegistry } from '../../../core/adapters/streams/registry.js';
import type { Logger } from '../../../core/logger.js';
import { channels, streamKeys } from '../../../core/streams/keys.js';
import {
  type LegacySecrets,
  legacySecrets,
  parseStreamRecord,
  StreamChange,
  type StreamRecord,
} from '../../../core/streams/schema.js';
import {
  type DataKeyProvider,
  type Envelope,
  hashPublishKey,
  openPassphrase,
  openSrtpKey,
  processDataKeys,
  StreamSecret,
} from '../../../core/streams/secrets.js';

/** The part of the Logger port the follower uses. */
export type RegistryLogger = Pick<Logger, 'info' | 'warn'>;

/**
 * What admission needs of a stream's secrets: the key's hash and the opened passphrase (the native SRT table), and
 * for an RTP stream its opened SRTP master key+salt (the RTP receiver; null: none, or plain RTP allowed).
 */
export interface IngestAdmission {
  readonly publishKeyHash: string;
  readonly passphrase: string | null;
  readonly srtpKey: string | null;
}

export interface RegistryTarget {
  upsert(record: StreamRecord, admission: IngestAdmission): void;
  remove(streamId: string): void;
}

/**
 * Follows the stream registry in Redis and mirrors it into the native admission table: all records at start,
 * then every change announced on `mirror:streams:changes` (the message names the stream; the record and its secret
 * are re-read, so no secret travels on the channel), and all records again after each reconnect. Secrets come from
 * `mirror:secret:{id}` (the key's hash; the passphrase opened through `keys`, decision D38), or, for records written
 * before, from the record itself (read old, write new: the control API moves them at the next rotation or
 * migration).
 */
export class RegistryFollower {
  private readonly records = new Map<string, StreamRecord>();
  /** What restore() writes back: the secret records, and the inline secrets of legacy records. */
  private readonly secrets = new Map<string, StreamSecret>();
  private readonly legacy = new Map<string, LegacySecrets>();
  /** Opened secrets by stream and kind, with the envelope they came from: a refresh with the same seal calls no KMS. */
  private readonly opened = new Map<string, { readonly seal: string; readonly passphrase: string }>();
  /** The newest refresh per stream: an older one finishing later (a slow KMS call) is not applied over it. */
  private readonly latest = new Map<string, number>();
  private refreshes = 0;
  private readonly registry: StreamRegistry;
  /** The registry's epoch when last read (streamKeys.epoch); null before the first stream exists. */
  private epoch: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly target: RegistryTarget,
    private readonly log: RegistryLogger,
    /** Opens sealed passphrases (KMS Decrypt on AWS, the local key file); processDataKeys when absent (tests). */
    private readonly keys?: DataKeyProvider,
  ) {
    this.registry = new StreamRegistry(redis);
  }

  get(streamId: string): StreamRecord | undefined {
    return this.records.get(streamId);
  }

  get size(): number {
    return this.records.size;
  }

  async start(): Promise<void> {
    // Subscribe first so a change racing the initial load is not lost (it is applied after, idempotently).
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== channels.streamChanges) return;
      this.onChange(message).catch((error: unknown) =>
        this.log.warn('registry change not applied', { error: String(error) }),
      );
    });
    await this.subscriber.subscribe(channels.streamChanges);
    await this.load();
    this.log.info('registry loaded', { streams: this.records.size });
    // ioredis resubscribes after a reconnect, but changes published meanwhile are gone: read everything again.
    this.subscriber.on('ready', () => {
      this.resync().catch((error: unknown) =>
        this.log.warn('registry not resynchronised after a reconnect', { error: String(error) }),
      );
    });
  }

  /**
   * After a reconnect: applies what changed while the subscription was down (records updated, created or deleted).
   * If the registry's epoch is gone, Redis lost its data set (a failover without a replica, a node replaced): the
   * records this task holds are written back instead of being taken for deletions, so publishers keep their
   * streams and operators their keys (every task holds every record, so any one of them restores the registry).
   */
  async resync(): Promise<void> {
    const epoch = await this.registry.epoch();
    // Any stream record implies an epoch (written with the first stream, or by load() for an older registry), so
    // none while this task holds records means the data set is gone, whether or not this task ever read the epoch
    // (it may have started before the first stream existed).
    if (epoch === null && this.records.size > 0) {
      const records = [...this.records.values()].map((r) => ({ ...r, ...this.legacy.get(r.id) }));
      const written = await this.registry.restore(records, this.epoch ?? undefined, this.secrets);
      this.log.warn('stream registry restored after Redis lost its data', {
        streams: this.records.size,
        written,
      });
    }
    await this.load();
  }

  /** Every record in the index, and the removal of those this task holds that are no longer there. */
  private async load(): Promise<void> {
    const ids = await this.redis.zrange(streamKeys.index, '0', '-1');
    for (const id of ids) await this.refresh(id);
    const listed = new Set(ids);
    for (const id of [...this.records.keys()]) {
      if (listed.has(id)) continue;
      this.forget(id);
      this.target.remove(id);
    }
    // A registry from before epochs gets one now.
    this.epoch = ids.length > 0 ? await this.registry.ensureEpoch() : await this.registry.epoch();
  }

  async refresh(streamId: string): Promise<void> {
    const seq = ++this.refreshes;
    this.latest.set(streamId, seq);
    const [raw, rawSecret] = await this.redis.mget(streamKeys.record(streamId), streamKeys.secret(streamId));
    if (raw === null || raw === undefined) {
      this.forget(streamId);
      this.target.remove(streamId);
      return;
    }
    let record: StreamRecord;
    let admission: IngestAdmission | undefined;
    const json = JSON.parse(raw) as unknown;
    try {
      record = parseStreamRecord(json);
      admission = await this.admission(streamId, json, rawSecret ?? null);
    } catch (error) {
      this.log.warn('stream record ignored: unreadable record or secret', { streamId, error: String(error) });
      return;
    }
    if (this.latest.get(streamId) !== seq) return;
    this.latest.delete(streamId);
    if (admission === undefined) {
      // No credentials stored (a record without its secret): nobody may publish it.
      this.log.warn('stream has no credentials: not admitted', { streamId });
      this.target.remove(streamId);
      return;
    }
    this.records.set(streamId, record);
    this.target.upsert(record, admission);
  }

  /** The stream's admission from its secret record, else from a legacy record's inline secrets. */
  private async admission(
    streamId: string,
    json: unknown,
    rawSecret: string | null,
  ): Promise<IngestAdmission | undefined> {
    if (rawSecret !== null) {
      const secret = StreamSecret.parse(JSON.parse(rawSecret));
      this.secrets.set(streamId, secret);
      this.legacy.delete(streamId);
      const passphrase = secret.passphrase === null ? null : await this.open(streamId, secret.passphrase);
      const srtpKey = secret.srtp ? await this.open(streamId, secret.srtp, 'srtp') : null;
      return { publishKeyHash: secret.publishKeyHash, passphrase, srtpKey };
    }
    const legacy = legacySecrets(json);
    if (!legacy) return undefined;
    this.legacy.set(streamId, legacy);
    return {
      publishKeyHash: hashPublishKey(legacy.publishKey),
      passphrase: legacy.passphrase,
      srtpKey: null,
    };
  }

  private async open(
    streamId: string,
    envelope: Envelope,
    kind: 'passphrase' | 'srtp' = 'passphrase',
  ): Promise<string> {
    const seal = `${envelope.edk}.${envelope.ct}`;
    const cacheKey = kind === 'srtp' ? `${streamId}\nsrtp` : streamId;
    const cached = this.opened.get(cacheKey);
    if (cached?.seal === seal) return cached.passphrase;
    const opener = kind === 'srtp' ? openSrtpKey : openPassphrase;
    const value = await opener(this.keys ?? processDataKeys, streamId, envelope);
    this.opened.set(cacheKey, { seal, passphrase: value });
    return value;
  }

  private forget(streamId: string): void {
    this.records.delete(streamId);
    this.secrets.delete(streamId);
    this.legacy.delete(streamId);
    this.opened.delete(streamId);
    this.opened.delete(`${streamId}\nsrtp`);
    this.latest.delete(streamId);
  }

  private async onChange(message: string): Promise<void> {
    const change = StreamChange.safeParse(JSON.parse(message));
    if (!change.success) return;
    if (change.data.type === 'delete') {
      this.forget(change.data.streamId);
      this.target.remove(change.data.streamId);
      return;
    }
    await this.refresh(change.data.streamId);
  }
}
