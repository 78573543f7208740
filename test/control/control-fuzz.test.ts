import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerAuthenticator, createControlApp } from '../../functions/control/app.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { bodyArb, expectWellBehaved, methodArb, pathArb } from './fuzz.js';
import { capturingLogger, TOKEN } from './helpers.js';

describe('control API under fuzzing', () => {
  let server: RedisServer;
  let redis: Redis;
  let app: ReturnType<typeof createControlApp>;
  const ecs = mockClient(ECSClient);
  const cf = mockClient(CloudFrontClient);

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    ecs.on(UpdateServiceCommand).resolves({});
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ desiredCount: 1, runningCount: 1, pendingCount: 0 }] });
    cf.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress' } as never });
    app = createControlApp({
      redis,
      logger: capturingLogger([]),
      srt: { host: 'h', port: 9000 },
      authenticate: bearerAuthenticator(TOKEN),
      ecs: {
        client: new ECSClient({ region: 'eu-west-1' }),
        cluster: 'c',
        service: 's',
        minTasks: 1,
        maxTasks: 4,
      },
      cloudfront: { client: new CloudFrontClient({ region: 'us-east-1' }), distributionId: 'D' },
    });
    for (const id of ['cam-1', 'cam-2']) {
      await app.handle({
        method: 'POST',
        path: '/api/control/streams',
        query: {},
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ id, name: id }),
      });
    }
  });
  afterAll(async () => {
    ecs.restore();
    cf.restore();
    await server.stop();
  });

  it('answers thousands of malformed requests without a 5xx, every 4xx naming the field', async () => {
    const templates = app.routes.map((r) => r.path);
    const keys = [
      'id',
      'name',
      'ladder',
      'latency',
      'encrypted',
      'keyLength',
      'clientToken',
      'publishKey',
      'passphrase',
      'disconnect',
      'reason',
      'desiredCount',
    ];
    const valid = [
      { name: 'ok' },
      { name: 'ok', ladder: 'full', latency: 'standard', encrypted: false, keyLength: 32 },
      { publishKey: true, passphrase: false },
      { reason: 'x' },
      { desiredCount: 2 },
      { name: 'renamed' },
    ];
    const requestArb = fc.record({
      method: methodArb,
      path: pathArb(templates, { streamId: ['cam-1', 'cam-2', 'missing'] }, '/api/control'),
      body: bodyArb(keys, valid),
      query: fc.dictionary(
        fc.constantFrom('limit', 'cursor', 'x', ''),
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('0', '1', '100', '101', '-1', '1e3')),
      ),
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
        { weight: 1, arbitrary: fc.string() },
      ),
    });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const status = await expectWellBehaved(app, {
          method: r.method,
          path: r.path,
          query: r.query,
          headers: { authorization: r.authorization, 'content-type': 'application/json' },
          body: r.body,
          sourceIp: '10.0.0.1',
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: 3000 },
    );
    // The generators reach past validation too: some calls succeed.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(100);
  });
});
