import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { RegistryFollower } from '../../containers/ingest/src/registry.js';
import { elastiCacheIamToken } from '../../core/adapters/redis-iam.js';
import { FileDataKeys, KmsDataKeys } from '../../core/adapters/streams/data-keys.js';
import { StreamRegistry } from '../../core/adapters/streams/registry.js';
import { streamKeys } from '../../core/streams/keys.js';
import {
  hashPublishKey,
  MasterKeyDataKeys,
  open,
  openPassphrase,
  publishKeyMatches,
  seal,
  sealPassphrase,
} from '../../core/streams/secrets.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { Sha256 } from '../support/sdk-sha256.js';

// Decision D38: publish keys kept as SHA-256 only, passphrases sealed (AES-256-GCM) under a data key that KMS (or
// the local key file) wraps; the ElastiCache IAM token signed as the SDK would.

const master = () => new MasterKeyDataKeys(Buffer.alloc(32, 7));

describe('publish keys as hashes', () => {
  it('stores SHA-256 hex and compares a presented key against it', () => {
    const key = 'Zq3kz3m8nXn2bB8wR9e4Jt5u6v7w8x9y';
    expect(hashPublishKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(publishKeyMatches(key, hashPublishKey(key))).toBe(true);
    expect(publishKeyMatches(`${key}x`, hashPublishKey(key))).toBe(false);
    expect(publishKeyMatches(key, 'not-a-hash')).toBe(false);
  });
});

describe('passphrase envelopes', () => {
  it('round-trips, and refuses another stream’s context, another key or changed bytes', async () => {
    const keys = master();
    const envelope = await sealPassphrase(keys, 'cam-1', 'a passphrase of 24 chars');
    expect(JSON.stringify(envelope)).not.toContain('passphrase of');
    expect(await openPassphrase(keys, 'cam-1', envelope)).toBe('a passphrase of 24 chars');
    await expect(openPassphrase(keys, 'cam-2', envelope)).rejects.toThrow();
    await expect(
      openPassphrase(new MasterKeyDataKeys(Buffer.alloc(32, 8)), 'cam-1', envelope),
    ).rejects.toThrow();
    const flipped = Buffer.from(envelope.ct, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expect(
      openPassphrase(keys, 'cam-1', { ...envelope, ct: flipped.toString('base64url') }),
    ).rejects.toThrow();
  });

  it('uses a fresh nonce per seal', () => {
    const key = { plaintext: Buffer.alloc(32, 1), encrypted: Buffer.from('edk') };
    const a = seal('same', key, 'ctx');
    const b = seal('same', key, 'ctx');
    expect(a.iv).not.toBe(b.iv);
    expect(open(a, key.plaintext, 'ctx')).toBe('same');
  });

  it('keeps the local master key in a 0600 file created at first start, read again by the next process', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mirror-keys-')), 'data', 'secrets.key');
    const envelope = await sealPassphrase(new FileDataKeys(path), 'cam-1', 'local passphrase 123');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8'), 'base64')).toHaveLength(32);
    expect(await openPassphrase(new FileDataKeys(path), 'cam-1', envelope)).toBe('local passphrase 123');
  });
});

describe('KMS data keys (aws-sdk-client-mock: no local KMS)', () => {
  const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const plaintext = Buffer.alloc(32, 3);
  const blob = Buffer.from('kms-ciphertext-blob');

  it('generates with GenerateDataKey and opens with Decrypt, naming the key and the stream’s context', async () => {
    const kms = mockClient(KMSClient);
    kms.on(GenerateDataKeyCommand).resolves({ Plaintext: plaintext, CiphertextBlob: blob, KeyId: KEY_ARN });
    kms.on(DecryptCommand).resolves({ Plaintext: plaintext, KeyId: KEY_ARN });
    const keys = new KmsDataKeys(KEY_ARN, new KMSClient({ region: 'eu-west-1' }));
    const envelope = await sealPassphrase(keys, 'cam-9', 'kms passphrase 0123');
    expect(Buffer.from(envelope.edk, 'base64url')).toEqual(blob);
    expect(await openPassphrase(keys, 'cam-9', envelope)).toBe('kms passphrase 0123');
    expect(kms.commandCalls(GenerateDataKeyCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: { 'mirror:secret': 'mirror:stream:cam-9' } },
    ]);
    expect(kms.commandCalls(DecryptCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, CiphertextBlob: blob, EncryptionContext: { 'mirror:secret': 'mirror:stream:cam-9' } },
    ]);
    kms.restore();
  });
});

describe('ElastiCache IAM token', () => {
  it('is the SDK signer’s presigned connect request, without its scheme', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret/Example+Key',
      sessionToken: 'tok=en/1',
    };
    const at = new Date(Date.UTC(2026, 11, 1, 7, 30, 0));
    const token = elastiCacheIamToken(
      { replicationGroupId: 'mirror-live', userId: 'mirror-dev-session', region: 'eu-west-1', credentials },
      at,
    );
    const signer = new SignatureV4({
      service: 'elasticache',
      region: 'eu-west-1',
      credentials,
      sha256: Sha256,
    });
    const presigned = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: 'mirror-live',
        path: '/',
        query: { Action: 'connect', User: 'mirror-dev-session' },
        headers: { host: 'mirror-live' },
      },
      { signingDate: at, expiresIn: 900 },
    );
    const expected = new URLSearchParams(presigned.query as Record<string, string>);
    const actual = new URL(`http://${token}`);
    expect(actual.host).toBe('mirror-live');
    expect(Object.fromEntries(actual.searchParams)).toEqual(Object.fromEntries(expected));
    expect(actual.searchParams.get('X-Amz-Expires')).toBe('900');
  });
});

describe('records written before D38 (real redis-server)', () => {
  let redis: import('ioredis').Redis;
  useRedisServer((_server, client) => {
    redis = client;
  });

  it('keep publishing with their key while inline, and after the migration moves the secrets apart', async () => {
    const legacy = {
      id: 'old-cam',
      name: 'Old cam',
      ladder: 'tile',
      latency: 'low',
      latencyProfile: 'low',
      publishKey: 'old-publish-key-0123456789',
      passphrase: 'old passphrase 0123',
      keyLength: 16,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    await redis.set(streamKeys.record('old-cam'), JSON.stringify(legacy));
    await redis.zadd(streamKeys.index, Date.now(), 'old-cam');
    await redis.set(streamKeys.byPublishKey(legacy.publishKey), 'old-cam');
    const keys = master();
    const admitted: Array<{ hash: string; passphrase: string | null }> = [];
    const follower = new RegistryFollower(
      redis,
      redis,
      {
        upsert: (_r, a) => admitted.push({ hash: a.publishKeyHash, passphrase: a.passphrase }),
        remove: () => {},
      },
      { info: () => undefined, warn: () => undefined },
      keys,
    );
    await follower.refresh('old-cam');
    const registry = new StreamRegistry(redis, undefined, { keys });
    expect((await registry.get('old-cam'))?.encrypted).toBe(true);
    expect(await registry.migrateLegacySecrets()).toBe(1);
    expect(await registry.migrateLegacySecrets()).toBe(0);
    const record = (await redis.get(streamKeys.record('old-cam')))!;
    expect(record).not.toContain(legacy.publishKey);
    expect(record).not.toContain(legacy.passphrase);
    expect(await redis.exists(streamKeys.byPublishKey(legacy.publishKey))).toBe(0);
    await follower.refresh('old-cam');
    const same = { hash: hashPublishKey(legacy.publishKey), passphrase: legacy.passphrase };
    expect(admitted).toEqual([same, same]);
  });
});
