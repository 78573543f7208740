import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../core/api/errors.js';
import type { createControlApp } from '../../functions/control/app.js';
import { CloudFrontInvalidation, EcsIngestScaling } from '../../functions/control/aws-ports.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

// aws-sdk-client-mock intercepts the client's send(): these tests assert the exact command and input the
// control function's AWS ports send to ECS and CloudFront, and how the API maps AWS's answers and errors.
describe('control API calls to ECS and CloudFront', () => {
  let redis: Redis;
  const ecsMock = mockClient(ECSClient);
  const cfMock = mockClient(CloudFrontClient);
  const scaling = new EcsIngestScaling(new ECSClient({ region: 'eu-west-1' }), {
    cluster: 'mirror',
    service: 'ingest',
    minTasks: 1,
    maxTasks: 4,
  });
  const invalidation = new CloudFrontInvalidation(
    new CloudFrontClient({ region: 'us-east-1' }),
    'E2EXAMPLE',
    () => 'ref-1',
  );
  let app: ReturnType<typeof createControlApp>;

  useRedisServer((_server, client) => {
    redis = client;
    app = controlApp(redis, { scaling, invalidation });
  });
  beforeEach(async () => {
    ecsMock.reset();
    cfMock.reset();
    await redis.flushall();
  });

  it('scales the ingest service with UpdateService within the bounds', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({ service: { serviceName: 'ingest', desiredCount: 3 } });
    const r = await call(app, request('PUT', '/api/control/ingest/scale', { desiredCount: 3 }));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ desiredCount: 3, minTasks: 1, maxTasks: 4 });
    const calls = ecsMock.commandCalls(UpdateServiceCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ cluster: 'mirror', service: 'ingest', desiredCount: 3 });
  });

  it('refuses counts outside min/max without calling ECS', async () => {
    for (const desiredCount of [0, 5]) {
      const r = await call(app, request('PUT', '/api/control/ingest/scale', { desiredCount }));
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('desiredCount');
      expect(r.json.message).toContain('between 1 and 4');
    }
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('maps an ECS refusal to 502 naming the AWS error, and audits it', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform ecs:UpdateService'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    ecsMock.on(UpdateServiceCommand).rejects(denied);
    const r = await call(app, request('PUT', '/api/control/ingest/scale', { desiredCount: 2 }));
    expect(r.status).toBe(502);
    expect(r.json.message).toContain('AccessDeniedException');
    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(audit.json.entries[0]).toMatchObject({ action: 'scaleIngest', status: 502 });
  });

  it('reports an AWS refusal as an UpstreamError and lets other failures through unnamed', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    ecsMock.on(DescribeServicesCommand).rejects(throttled);
    const refused = await scaling.counts().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({ message: 'ThrottlingException: Rate exceeded', cause: throttled });
    // Not an AWS answer (no $metadata): not reported as one.
    const bug = new TypeError('not an AWS error');
    ecsMock.on(DescribeServicesCommand).rejects(bug);
    await expect(scaling.counts()).rejects.toBe(bug);
  });

  it('reads service counts with DescribeServices', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'ingest', desiredCount: 2, runningCount: 1, pendingCount: 1 }] });
    const r = await call(app, request('GET', '/api/control/ingest'));
    expect(r.status).toBe(200);
    expect(r.json.service).toEqual({
      desiredCount: 2,
      runningCount: 1,
      pendingCount: 1,
      minTasks: 1,
      maxTasks: 4,
    });
    expect(ecsMock.commandCalls(DescribeServicesCommand)[0]?.args[0].input).toEqual({
      cluster: 'mirror',
      services: ['ingest'],
    });
  });

  it('answers 502 when ECS does not know the service', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    const r = await call(app, request('GET', '/api/control/ingest'));
    expect(r.status).toBe(502);
  });

  it('invalidates the stream’s paths with CreateInvalidation', async () => {
    cfMock
      .on(CreateInvalidationCommand)
      .resolves({ Invalidation: { Id: 'I2J3EXAMPLE', Status: 'InProgress' } as never });
    const r = await call(app, request('POST', '/api/control/streams/cam-1/invalidate'));
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ invalidationId: 'I2J3EXAMPLE', status: 'InProgress', paths: ['/cam-1/*'] });
    expect(cfMock.commandCalls(CreateInvalidationCommand)[0]?.args[0].input).toEqual({
      DistributionId: 'E2EXAMPLE',
      InvalidationBatch: { CallerReference: 'ref-1', Paths: { Quantity: 1, Items: ['/cam-1/*'] } },
    });
  });

  it('answers 502 when CloudFront returns no invalidation', async () => {
    cfMock.on(CreateInvalidationCommand).resolves({});
    const r = await call(app, request('POST', '/api/control/streams/cam-1/invalidate'));
    expect(r.status).toBe(502);
  });
});
