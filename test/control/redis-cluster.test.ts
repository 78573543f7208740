import {
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  type ReplicationGroup,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import type { createControlApp } from '../../functions/control/app.js';
import { ElastiCacheLiveStateCluster } from '../../functions/control/aws-ports.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

// aws-sdk-client-mock intercepts ElastiCacheClient.send(): these tests assert the exact requests the control
// function sends for the operators' view of the live state and the failover drill, and how answers map.

const GROUP = 'mirror-prod-live';

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

/** What DescribeReplicationGroups answers for a healthy 1 + 1 Multi-AZ group. */
function healthyGroup(overrides: Partial<ReplicationGroup> = {}): ReplicationGroup {
  return {
    ReplicationGroupId: GROUP,
    Status: 'available',
    AutomaticFailover: 'enabled',
    MultiAZ: 'enabled',
    AuthTokenEnabled: true,
    NodeGroups: [
      {
        NodeGroupId: '0001',
        Status: 'available',
        PrimaryEndpoint: { Address: 'master.mirror-prod-live.abc.euw1.cache.amazonaws.com', Port: 6380 },
        NodeGroupMembers: [
          { CacheClusterId: `${GROUP}-001`, CurrentRole: 'primary', PreferredAvailabilityZone: 'eu-west-1a' },
          { CacheClusterId: `${GROUP}-002`, CurrentRole: 'replica', PreferredAvailabilityZone: 'eu-west-1b' },
        ],
      },
    ],
    ...overrides,
  };
}

describe('control API: the live state’s ElastiCache replication group', () => {
  const mock = mockClient(ElastiCacheClient);
  let redis: Redis;
  let app: ReturnType<typeof createControlApp>;
  let local: ReturnType<typeof createControlApp>;

  useRedisServer((_server, client) => {
    redis = client;
    app = controlApp(redis, {
      liveStateCluster: new ElastiCacheLiveStateCluster(
        new ElastiCacheClient({ region: 'eu-west-1' }),
        GROUP,
      ),
    });
    local = controlApp(redis);
  });
  beforeEach(async () => {
    mock.reset();
    await redis.flushall();
  });

  it('shows status, nodes with roles and zones, and failover settings from DescribeReplicationGroups', async () => {
    mock.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [healthyGroup()] });
    const r = await call(app, request('GET', '/api/control/redis'));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      replicationGroup: {
        replicationGroupId: GROUP,
        status: 'available',
        automaticFailover: 'enabled',
        multiAz: 'enabled',
        nodeGroups: [
          {
            nodeGroupId: '0001',
            status: 'available',
            primaryEndpoint: 'master.mirror-prod-live.abc.euw1.cache.amazonaws.com',
            nodes: [
              { cacheClusterId: `${GROUP}-001`, role: 'primary', availabilityZone: 'eu-west-1a' },
              { cacheClusterId: `${GROUP}-002`, role: 'replica', availabilityZone: 'eu-west-1b' },
            ],
          },
        ],
      },
      failoverReady: true,
    });
    const calls = mock.commandCalls(DescribeReplicationGroupsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ ReplicationGroupId: GROUP });
  });

  it('drills a failover with TestFailover on node group 0001, audited with the caller', async () => {
    mock.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [healthyGroup()] });
    mock.on(TestFailoverCommand).resolves({ ReplicationGroup: healthyGroup({ Status: 'modifying' }) });
    const r = await call(app, request('POST', '/api/control/redis/failover-test'));
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ replicationGroupId: GROUP, nodeGroupId: '0001', status: 'modifying' });
    const calls = mock.commandCalls(TestFailoverCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ ReplicationGroupId: GROUP, NodeGroupId: '0001' });
    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(audit.json.entries[0]).toMatchObject({
      who: 'local-operator',
      action: 'testRedisFailover',
      target: 'nodeGroup=0001',
      status: 202,
    });
  });

  it('answers 409 without calling TestFailover while a failover or change runs, or where there is no replica', async () => {
    const busy = [
      healthyGroup({ Status: 'modifying' }),
      healthyGroup({ NodeGroups: [{ ...healthyGroup().NodeGroups![0]!, Status: 'modifying' }] }),
      healthyGroup({ AutomaticFailover: 'disabled', MultiAZ: 'disabled' }),
      healthyGroup({
        NodeGroups: [{ ...healthyGroup().NodeGroups![0]!, NodeGroupMembers: [{ CurrentRole: 'primary' }] }],
      }),
    ];
    for (const group of busy) {
      mock.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group] });
      const r = await call(app, request('POST', '/api/control/redis/failover-test'));
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({ error: 'conflict', field: 'nodeGroupId' });
    }
    expect(mock.commandCalls(TestFailoverCommand)).toHaveLength(0);
    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(audit.json.entries.map((e: { status: number }) => e.status)).toEqual([409, 409, 409, 409]);
  });

  it('maps ElastiCache’s "not now" refusals to 409 and anything else to 502', async () => {
    mock.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [healthyGroup()] });
    for (const name of ['TestFailoverNotAvailableFault', 'InvalidReplicationGroupStateFault']) {
      mock.on(TestFailoverCommand).rejects(awsError(name, 'not now'));
      const r = await call(app, request('POST', '/api/control/redis/failover-test'));
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({ field: 'nodeGroupId', message: `${name}: not now` });
    }
    mock.on(TestFailoverCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const denied = await call(app, request('POST', '/api/control/redis/failover-test'));
    expect(denied.status).toBe(502);
    expect(denied.json.message).toContain('AccessDeniedException');
    mock.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [] });
    expect((await call(app, request('GET', '/api/control/redis'))).status).toBe(502);
  });

  it('answers 404 naming what is missing where there is no ElastiCache (the embedded default)', async () => {
    for (const [method, path] of [
      ['GET', '/api/control/redis'],
      ['POST', '/api/control/redis/failover-test'],
    ] as const) {
      const r = await call(local, request(method, path));
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ error: 'not_configured', field: 'replicationGroupId' });
      expect(r.json.message).toContain('no ElastiCache replication group');
    }
    expect(mock.calls()).toHaveLength(0);
  });

  it('is for operators only: 401 without a credential', async () => {
    const anonymous = request('POST', '/api/control/redis/failover-test', undefined, {});
    expect((await call(app, anonymous)).status).toBe(401);
    expect(mock.calls()).toHaveLength(0);
  });
});
