import {
  CloudFrontKeyValueStoreClient,
  DescribeKeyValueStoreCommand,
  ListKeysCommand,
  UpdateKeysCommand,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import '@aws-sdk/signature-v4a';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  keyValueStoreKeys,
  LambdaKeyRotator,
  secretsManagerRing,
} from '../../core/adapters/playback-keys.js';
import { LocalPlaybackKeys } from '../../local/playback-keys.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

const KVS_ARN = 'arn:aws:cloudfront::123456789012:key-value-store/0f0e0d0c-aaaa-bbbb-cccc-000000000000';

describe('the playback-keys control routes (D37)', () => {
  let redis: Redis;
  useRedisServer((_server, client) => {
    redis = client;
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it('lists the ring without key material, rotates, refuses a second rotation in the overlap, and audits', async () => {
    const keys = new LocalPlaybackKeys();
    await keys.run('maintain');
    const app = controlApp(redis, { playbackKeys: keys });
    const listed = await call(app, request('GET', '/api/control/playback-keys'));
    expect(listed.status).toBe(200);
    expect(listed.json.keys).toHaveLength(1);
    expect(listed.json.keys[0].state).toBe('signing');
    expect(JSON.stringify(listed.json)).not.toContain(keys.ring().keys[0]?.secret);

    const rotated = await call(app, request('POST', '/api/control/playback-keys/rotate'));
    expect(rotated.status).toBe(200);
    expect(keys.storedKids()).toEqual(keys.ring().keys.map((k) => `playback-key-${k.kid}`));
    expect(rotated.json.keys.map((k: { kid: string }) => k.kid)).toContain(rotated.json.added);

    const again = await call(app, request('POST', '/api/control/playback-keys/rotate'));
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'rotation_in_progress', field: 'playbackKeys' });
    expect(Number(again.response.headers['retry-after'])).toBeGreaterThan(0);

    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(
      audit.json.entries.map((e: { action: string; status: number }) => [e.action, e.status]).slice(0, 2),
    ).toEqual([
      ['rotatePlaybackKeys', 409],
      ['rotatePlaybackKeys', 200],
    ]);
  });

  it('answers 409 not_configured, naming the field, where playback protection is off', async () => {
    const app = controlApp(redis);
    for (const [method, path] of [
      ['GET', '/api/control/playback-keys'],
      ['POST', '/api/control/playback-keys/rotate'],
    ] as const) {
      const answer = await call(app, request(method, path));
      expect([answer.status, answer.json.field]).toEqual([409, 'playbackKeys']);
    }
  });
});

describe('the key ring on AWS (mocked: no local KeyValueStore or Lambda peer)', () => {
  it('asks the PlaybackKeys function to rotate with one synchronous invocation', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: new TextEncoder().encode(
        JSON.stringify({ keys: [], added: 'abcd1234', retired: [] }),
      ) as never,
    });
    const rotator = new LambdaKeyRotator(async () => new LambdaClient({}), 'Mirror-PlaybackKeys');
    expect(await rotator.run('rotate')).toEqual({ keys: [], added: 'abcd1234', retired: [] });
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'Mirror-PlaybackKeys',
      Payload: JSON.stringify({ action: 'rotate' }),
    });
    lambda.restore();
  });

  it('writes the store conditionally on its ETag, and the ring with PutSecretValue', async () => {
    const kvs = mockClient(CloudFrontKeyValueStoreClient);
    kvs.on(ListKeysCommand).resolves({
      Items: [
        { Key: 'playback-key-old00001', Value: 'x'.repeat(43) },
        { Key: 'unrelated', Value: 'kept' },
      ],
    });
    kvs.on(DescribeKeyValueStoreCommand).resolves({ ETag: 'etag-1' } as never);
    kvs.on(UpdateKeysCommand).resolves({} as never);
    const store = keyValueStoreKeys(new CloudFrontKeyValueStoreClient({}), KVS_ARN);
    expect([...(await store.playbackKeys()).keys()]).toEqual(['playback-key-old00001']);
    await store.update(new Map([['playback-key-new00002', 'y'.repeat(43)]]), ['playback-key-old00001']);
    expect(kvs.commandCalls(UpdateKeysCommand)[0]?.args[0].input).toEqual({
      KvsARN: KVS_ARN,
      IfMatch: 'etag-1',
      Puts: [{ Key: 'playback-key-new00002', Value: 'y'.repeat(43) }],
      Deletes: [{ Key: 'playback-key-old00001' }],
    });
    kvs.restore();

    const sm = mockClient(SecretsManagerClient);
    sm.on(PutSecretValueCommand).resolves({});
    await secretsManagerRing(new SecretsManagerClient({}), 'arn:ring').write('{"version":1,"keys":[]}');
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'arn:ring',
      SecretString: '{"version":1,"keys":[]}',
    });
    sm.restore();
  });

  it('signs KeyValueStore calls with SigV4A (the JS signer the function bundles) at the global endpoint', async () => {
    const sent: { host: string; authorization: string }[] = [];
    const client = new CloudFrontKeyValueStoreClient({
      region: 'eu-central-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: {
        handle: async (req: { hostname: string; headers: Record<string, string> }) => {
          sent.push({ host: req.hostname, authorization: req.headers.authorization ?? '' });
          throw new Error('not sent');
        },
      } as never,
    });
    await expect(client.send(new DescribeKeyValueStoreCommand({ KvsARN: KVS_ARN }))).rejects.toThrow();
    expect(sent[0]?.host).toBe('123456789012.cloudfront-kvs.global.api.aws');
    expect(sent[0]?.authorization).toMatch(/^AWS4-ECDSA-P256-SHA256 /);
  });
});
