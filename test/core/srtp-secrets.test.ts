import { randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { KmsDataKeys } from '../../core/adapters/streams/data-keys.js';
import {
  MasterKeyDataKeys,
  newSrtpKey,
  openPassphrase,
  openSrtpKey,
  SrtpKey,
  sealPassphrase,
  sealSrtpKey,
  srtpKeyContext,
} from '../../core/streams/secrets.js';

/** The SRTP key at rest (decision D46): sealed like the passphrase (D38), under a context of its own. */
describe('SRTP key sealing', () => {
  const keys = new MasterKeyDataKeys(randomBytes(32));

  it('issues 30 random bytes as the 40-character base64 ffmpeg and SDES take', () => {
    const key = newSrtpKey();
    expect(SrtpKey.safeParse(key).success).toBe(true);
    expect(Buffer.from(key, 'base64')).toHaveLength(30);
    expect(newSrtpKey()).not.toBe(key);
  });

  it('round-trips through seal and open, and the envelope holds no plaintext', async () => {
    const key = newSrtpKey();
    const envelope = await sealSrtpKey(keys, 'gate', key);
    expect(JSON.stringify(envelope)).not.toContain(key);
    expect(await openSrtpKey(keys, 'gate', envelope)).toBe(key);
  });

  it('does not open as a passphrase, on another stream, or with a passphrase envelope (distinct GCM contexts)', async () => {
    const key = newSrtpKey();
    const srtp = await sealSrtpKey(keys, 'gate', key);
    const passphrase = await sealPassphrase(keys, 'gate', 'a passphrase of 32 characters ok');
    await expect(openPassphrase(keys, 'gate', srtp)).rejects.toThrow();
    await expect(openSrtpKey(keys, 'gate', passphrase)).rejects.toThrow();
    await expect(openSrtpKey(keys, 'gate-2', srtp)).rejects.toThrow();
    // Stream ids hold no ':', so a stream's SRTP context is no other stream's passphrase context.
    expect(srtpKeyContext('gate')).toBe('mirror:stream:gate:srtp');
  });

  it('asks KMS with the SRTP context, which the key policy’s mirror:stream:* condition admits', async () => {
    const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const blob = Buffer.from('kms-ciphertext-blob');
    const kms = mockClient(KMSClient);
    kms
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: Buffer.alloc(32, 5), CiphertextBlob: blob, KeyId: KEY_ARN });
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.alloc(32, 5), KeyId: KEY_ARN });
    try {
      const provider = new KmsDataKeys(KEY_ARN, new KMSClient({ region: 'eu-west-1' }));
      const key = newSrtpKey();
      const envelope = await sealSrtpKey(provider, 'cam-9', key);
      expect(await openSrtpKey(provider, 'cam-9', envelope)).toBe(key);
      const context = { 'mirror:secret': 'mirror:stream:cam-9:srtp' };
      expect(kms.commandCalls(GenerateDataKeyCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: context },
      ]);
      expect(kms.commandCalls(DecryptCommand).map((c) => c.args[0].input)).toEqual([
        { KeyId: KEY_ARN, CiphertextBlob: blob, EncryptionContext: context },
      ]);
    } finally {
      kms.restore();
    }
  });
});
