import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  type DataKey,
  type DataKeyProvider,
  KMS_CONTEXT_KEY,
  MasterKeyDataKeys,
} from '../../streams/secrets.js';
import { lazyClient, loadKms } from '../aws-sdk.js';

/**
 * The data keys that seal SRT passphrases (decision D38). On AWS: KMS, a customer-managed key whose policy lets the
 * control function's role GenerateDataKey (seal) and the ingest task role Decrypt (open), nobody else either; in the
 * embedded default: a key file under the local data directory, created at first start.
 */

/** KMS data keys: 256-bit AES keys generated under `keyArn`, each bound to one stream by the encryption context. */
export class KmsDataKeys implements DataKeyProvider {
  private readonly client: () => Promise<KMSClient>;

  constructor(
    private readonly keyArn: string,
    client?: KMSClient,
  ) {
    this.client = client ? async () => client : lazyClient(loadKms, (sdk) => new sdk.KMSClient({}));
  }

  async generate(context: string): Promise<DataKey> {
    const { GenerateDataKeyCommand } = await loadKms();
    const out = await (await this.client()).send(
      new GenerateDataKeyCommand({
        KeyId: this.keyArn,
        KeySpec: 'AES_256',
        EncryptionContext: { [KMS_CONTEXT_KEY]: context },
      }),
    );
    if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
    return { plaintext: Buffer.from(out.Plaintext), encrypted: Buffer.from(out.CiphertextBlob) };
  }

  async decrypt(encrypted: Buffer, context: string): Promise<Buffer> {
    const { DecryptCommand } = await loadKms();
    const out = await (await this.client()).send(
      new DecryptCommand({
        // Naming the key makes KMS refuse a blob sealed under any other key (one planted in Redis, say).
        KeyId: this.keyArn,
        CiphertextBlob: encrypted,
        EncryptionContext: { [KMS_CONTEXT_KEY]: context },
      }),
    );
    if (!out.Plaintext) throw new Error('KMS Decrypt returned no plaintext');
    return Buffer.from(out.Plaintext);
  }
}

const KEY_BYTES = 32;

/**
 * The embedded default's stand-in for KMS: a 256-bit master key in `path` (mode 0600, created at first start)
 * wraps each data key (MasterKeyDataKeys). The same seal as on AWS, so the ingest's open path is the one that runs
 * in production; the file is what a laptop can protect.
 */
export class FileDataKeys extends MasterKeyDataKeys {
  constructor(path: string) {
    super(loadOrCreateKey(path));
  }
}

function loadOrCreateKey(path: string): Buffer {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    // 'wx': two processes starting at once never overwrite each other's key (the loser reads the winner's).
    try {
      writeFileSync(path, randomBytes(KEY_BYTES).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(path, 0o600);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${path} does not hold a 256-bit key (base64)`);
  return key;
}

/** The provider a process's environment names: a KMS key ARN on AWS, else a key file; undefined with neither. */
export function dataKeysFromEnv(env: {
  readonly MIRROR_SECRETS_KEY_ARN?: string | undefined;
  readonly MIRROR_SECRETS_KEY_FILE?: string | undefined;
}): DataKeyProvider | undefined {
  if (env.MIRROR_SECRETS_KEY_ARN) return new KmsDataKeys(env.MIRROR_SECRETS_KEY_ARN);
  if (env.MIRROR_SECRETS_KEY_FILE) return new FileDataKeys(env.MIRROR_SECRETS_KEY_FILE);
  return undefined;
}
