import { randomBytes } from 'node:crypto';
import type { RedisPort as Redis } from '../../resp/port.js';
import { streamKeys } from '../../streams/keys.js';
import { legacySecrets, parseStreamRecord, type StreamCredentials } from '../../streams/schema.js';
import {
  type DataKeyProvider,
  hashPublishKey,
  newSrtpKey,
  processDataKeys,
  StreamSecret,
  sealPassphrase,
  sealSrtpKey,
} from '../../streams/secrets.js';

// Compare-and-set: replace a JSON record only if nobody changed it since we read it.
export const CAS_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** 32 url-safe characters (192 bits). */
export function newPublishKey(): string {
  return randomBytes(24).toString('base64url');
}

/** 32 url-safe characters: within libsrt's 10..79 and strong enough for AES-256. */
export function newPassphrase(): string {
  return randomBytes(24).toString('base64url');
}

/** A stream's secret as stored, or derived from a record written before D38 (whose inline secrets it names). */
export interface StoredSecret {
  readonly secret?: StreamSecret;
  /** Legacy record: its plain passphrase (null: unencrypted), to be sealed at the next write. */
  readonly legacyPassphrase?: string | null;
  /** Legacy record: its plain key, whose `mirror:streamkey:` entry is to be deleted at the next write. */
  readonly legacyKey?: string;
}

/**
 * The stream secrets at `mirror:secret:{id}` (decision D38): the publish key as its SHA-256, the passphrase sealed
 * under a data key from `keys`. Only the control and ingest Redis users may read them (core/contracts/redis-acl.ts).
 */
export class StreamSecretStore {
  private readonly keys: DataKeyProvider;

  constructor(
    private readonly redis: Redis,
    keys?: DataKeyProvider,
  ) {
    this.keys = keys ?? processDataKeys;
  }

  /** The secret record for freshly issued credentials: the key's hash, the passphrase and SRTP key sealed. */
  async issue(id: string, credentials: StreamCredentials, generation: number): Promise<StreamSecret> {
    const { srtpKey } = credentials;
    return {
      v: 1,
      publishKeyHash: hashPublishKey(credentials.publishKey),
      passphrase: credentials.passphrase === null ? null : await this.seal(id, credentials.passphrase),
      ...(srtpKey === undefined
        ? {}
        : { srtp: srtpKey === null ? null : await sealSrtpKey(this.keys, id, srtpKey) }),
      generation,
    };
  }

  seal(id: string, passphrase: string) {
    return sealPassphrase(this.keys, id, passphrase);
  }

  /** The stream's secret (legacy records: derived from their inline secrets); undefined when no record exists. */
  async read(id: string): Promise<StoredSecret | undefined> {
    const [raw, rawRecord] = await this.redis.mget(streamKeys.secret(id), streamKeys.record(id));
    if (rawRecord === null || rawRecord === undefined) return undefined;
    if (raw) return { secret: StreamSecret.parse(JSON.parse(raw)) };
    const legacy = legacySecrets(JSON.parse(rawRecord));
    if (!legacy) return {};
    return {
      secret: { v: 1, publishKeyHash: hashPublishKey(legacy.publishKey), passphrase: null, generation: 1 },
      legacyPassphrase: legacy.passphrase,
      legacyKey: legacy.publishKey,
    };
  }

  /**
   * New credentials for the parts asked (a stream without a stored key gets one whatever was asked), the others
   * kept as stored (a legacy plain passphrase sealed now); writes the secret with its generation incremented.
   * Returns what was issued, shown once, and the legacy key whose map entry the caller deletes.
   */
  async rotate(
    id: string,
    found: StoredSecret,
    what: { readonly publishKey: boolean; readonly passphrase: boolean; readonly srtpKey?: boolean },
  ): Promise<{ issued: Partial<StreamCredentials>; secret: StreamSecret }> {
    const previous = found.secret;
    const issued: { publishKey?: string; passphrase?: string; srtpKey?: string } = {};
    if (what.publishKey || previous === undefined) issued.publishKey = newPublishKey();
    if (what.passphrase) issued.passphrase = newPassphrase();
    if (what.srtpKey === true) issued.srtpKey = newSrtpKey();
    // Kept as stored when not renewed (absent for SRT streams: the field stays absent).
    const srtp =
      issued.srtpKey !== undefined ? await sealSrtpKey(this.keys, id, issued.srtpKey) : previous?.srtp;
    const passphrase =
      issued.passphrase !== undefined
        ? await this.seal(id, issued.passphrase)
        : typeof found.legacyPassphrase === 'string'
          ? await this.seal(id, found.legacyPassphrase)
          : (previous?.passphrase ?? null);
    const secret: StreamSecret = {
      v: 1,
      publishKeyHash:
        issued.publishKey !== undefined
          ? hashPublishKey(issued.publishKey)
          : (previous as StreamSecret).publishKeyHash,
      passphrase,
      ...(srtp === undefined ? {} : { srtp }),
      generation: (previous?.generation ?? 0) + 1,
    };
    await this.redis.set(streamKeys.secret(id), JSON.stringify(secret));
    return { issued, secret };
  }

  /**
   * Moves the inline secrets of records written before D38 to `mirror:secret:{id}` (the key hashed, the passphrase
   * sealed) and rewrites the records without them, so that the session function's Redis user, which may read
   * records, no longer reads secrets; also drops the legacy publish-key map (keys in key names). Idempotent;
   * returns how many records moved. Publishers keep their credentials: the hash is of the same key.
   */
  async migrateLegacy(ids: readonly string[]): Promise<number> {
    let moved = 0;
    for (const id of ids) {
      const raw = await this.redis.get(streamKeys.record(id));
      const legacy = raw === null ? undefined : legacySecrets(JSON.parse(raw));
      if (raw === null || !legacy) continue;
      const existing = await this.redis.get(streamKeys.secret(id));
      const secret = existing ? StreamSecret.parse(JSON.parse(existing)) : await this.issue(id, legacy, 1);
      const record = parseStreamRecord(JSON.parse(raw));
      // Secret first, then the record only if nobody changed it meanwhile (a concurrent write wins; run again).
      await this.redis.set(streamKeys.secret(id), JSON.stringify(secret), 'NX');
      const swapped = await this.redis.eval(
        CAS_SCRIPT,
        1,
        streamKeys.record(id),
        raw,
        JSON.stringify(record),
      );
      await this.redis.del(streamKeys.byPublishKey(legacy.publishKey));
      if (swapped === 1) moved++;
    }
    return moved;
  }
}
