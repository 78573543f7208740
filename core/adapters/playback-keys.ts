import type { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UpstreamError } from '../api/errors.js';
import type { EdgeKeyStore, KeyActionResult, KeyRingSecret } from '../sessions/playback-key-rotation.js';
import { KVS_KEY_PREFIX, type RotationRefusal } from '../sessions/playback-keys.js';
import { loadKeyValueStore, loadLambda, loadSecretsManager } from './aws-sdk.js';

/**
 * The playback key ring's homes on AWS (decision D37): the retained Secrets Manager secret and the CloudFront
 * KeyValueStore's data plane (SigV4A: the PlaybackKeys function registers @aws-sdk/signature-v4a, bundled with it).
 * And the control function's way to ask for a rotation: it invokes the PlaybackKeys function, the only holder of
 * the write permissions.
 */

export function secretsManagerRing(client: SecretsManagerClient, secretArn: string): KeyRingSecret {
  return {
    async read() {
      const { GetSecretValueCommand } = await loadSecretsManager();
      return (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
    },
    async write(text) {
      const { PutSecretValueCommand } = await loadSecretsManager();
      await client.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: text }));
    },
  };
}

/** KeyValueStore pages hold at most 50 keys; the ring holds 2, so a handful of pages bounds any store. */
const MAX_PAGES = 20;

export function keyValueStoreKeys(client: CloudFrontKeyValueStoreClient, kvsArn: string): EdgeKeyStore {
  return {
    async playbackKeys() {
      const { ListKeysCommand } = await loadKeyValueStore();
      const held = new Map<string, string>();
      let next: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await client.send(
          new ListKeysCommand({ KvsARN: kvsArn, MaxResults: 50, NextToken: next }),
        );
        for (const item of out.Items ?? []) {
          if (item.Key?.startsWith(KVS_KEY_PREFIX)) held.set(item.Key, item.Value ?? '');
        }
        next = out.NextToken;
        if (!next) return held;
      }
      throw new UpstreamError(`KeyValueStore ${kvsArn}: more than ${MAX_PAGES} pages of keys`);
    },
    async update(puts, deletes) {
      const { DescribeKeyValueStoreCommand, UpdateKeysCommand } = await loadKeyValueStore();
      // Writes are conditional on the store's current ETag: a concurrent writer makes this one fail, not interleave.
      const { ETag } = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn }));
      await client.send(
        new UpdateKeysCommand({
          KvsARN: kvsArn,
          IfMatch: ETag,
          Puts: [...puts].map(([Key, Value]) => ({ Key, Value })),
          Deletes: deletes.map((Key) => ({ Key })),
        }),
      );
    },
  };
}

/** The control API's rotator on AWS: a synchronous invocation of the PlaybackKeys function. */
export class LambdaKeyRotator {
  constructor(
    private readonly client: () => Promise<LambdaClient>,
    private readonly functionName: string,
  ) {}

  async run(action: 'rotate' | 'describe'): Promise<KeyActionResult | RotationRefusal> {
    const [client, { InvokeCommand }] = await Promise.all([this.client(), loadLambda()]);
    let out: { FunctionError?: string; Payload?: Uint8Array };
    try {
      out = await client.send(
        new InvokeCommand({ FunctionName: this.functionName, Payload: JSON.stringify({ action }) }),
      );
    } catch (error) {
      throw new UpstreamError(`invoking ${this.functionName} failed`, { cause: error });
    }
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    if (out.FunctionError) throw new UpstreamError(`${this.functionName} failed: ${text.slice(0, 200)}`);
    return JSON.parse(text) as KeyActionResult | RotationRefusal;
  }
}
