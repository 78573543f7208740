import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Deployment, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHECK_INTERVAL_MS,
  DeploymentWatch,
  fetchTaskMetadata,
  SELF_DRAIN_AFTER_MS,
  startDeploymentWatch,
  type TaskMetadata,
} from '../../containers/ingest/src/deployment-watch.js';
import { TaskProtection } from '../../containers/ingest/src/ecs-protection.js';
import {
  type DeploymentView,
  supersession,
  taskDefinitionOf,
} from '../../containers/ingest/src/superseded.js';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition';
const OWN = { family: 'MirrorIngestTask', revision: '7' };
const primary = (over: Partial<DeploymentView> = {}): DeploymentView => ({
  id: 'ecs-svc/new',
  status: 'PRIMARY',
  taskDefinition: `${ARN}/MirrorIngestTask:8`,
  desiredCount: 2,
  runningCount: 2,
  rolloutState: 'IN_PROGRESS',
  ...over,
});
const old: DeploymentView = {
  id: 'ecs-svc/old',
  status: 'ACTIVE',
  taskDefinition: `${ARN}/MirrorIngestTask:7`,
  desiredCount: 2,
  runningCount: 2,
};

describe('supersession: has a new PRIMARY deployment replaced this task?', () => {
  it.each<[string, DeploymentView[], ReturnType<typeof supersession>]>([
    [
      'new task definition, all its tasks running',
      [primary(), old],
      {
        superseded: true,
        deploymentId: 'ecs-svc/new',
        taskDefinition: 'MirrorIngestTask:8',
        runningCount: 2,
      },
    ],
    [
      'more running than desired (a scale-in under way) still counts as ready',
      [primary({ runningCount: 3 }), old],
      {
        superseded: true,
        deploymentId: 'ecs-svc/new',
        taskDefinition: 'MirrorIngestTask:8',
        runningCount: 3,
      },
    ],
    [
      'another family entirely (the operator pointed the service elsewhere)',
      [primary({ taskDefinition: `${ARN}/Other:1` }), old],
      { superseded: true, deploymentId: 'ecs-svc/new', taskDefinition: 'Other:1', runningCount: 2 },
    ],
    [
      'new tasks still starting',
      [primary({ runningCount: 1 }), old],
      {
        superseded: false,
        why: 'not-ready',
        taskDefinition: 'MirrorIngestTask:8',
        runningCount: 1,
        desiredCount: 2,
      },
    ],
    [
      'the new deployment wants no task: nowhere to move publishers',
      [primary({ desiredCount: 0, runningCount: 0 }), old],
      {
        superseded: false,
        why: 'not-ready',
        taskDefinition: 'MirrorIngestTask:8',
        runningCount: 0,
        desiredCount: 0,
      },
    ],
    [
      'the new deployment failed (circuit breaker), even with its tasks running',
      [primary({ rolloutState: 'FAILED' }), old],
      {
        superseded: false,
        why: 'failed',
        taskDefinition: 'MirrorIngestTask:8',
        runningCount: 2,
        desiredCount: 2,
      },
    ],
    [
      'the PRIMARY runs this task definition (no deployment)',
      [primary({ taskDefinition: `${ARN}/MirrorIngestTask:7` })],
      { superseded: false, why: 'current', taskDefinition: 'MirrorIngestTask:7' },
    ],
    [
      'a rollback made this task definition PRIMARY again',
      [
        primary({ taskDefinition: `${ARN}/MirrorIngestTask:7`, id: 'ecs-svc/rollback' }),
        { ...primary(), status: 'ACTIVE', rolloutState: 'FAILED' },
      ],
      { superseded: false, why: 'current', taskDefinition: 'MirrorIngestTask:7' },
    ],
    ['no PRIMARY deployment in the answer', [old], { superseded: false, why: 'no-primary' }],
    [
      'an unreadable task definition ARN: never drain on doubt',
      [primary({ taskDefinition: 'MirrorIngestTask:8' })],
      { superseded: false, why: 'unreadable' },
    ],
  ])('%s', (_name, deployments, verdict) => {
    expect(supersession(OWN, deployments)).toEqual(verdict);
  });

  it('reads family and revision from task definition ARNs in any partition', () => {
    expect(taskDefinitionOf(`${ARN}/Mirror-dev_Ingest:12`)).toBe('Mirror-dev_Ingest:12');
    expect(taskDefinitionOf('arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/x:1')).toBe('x:1');
    // Revision 7 must not match revision 70, nor a family that only ends like ours.
    expect(supersession(OWN, [primary({ taskDefinition: `${ARN}/MirrorIngestTask:70` })])).toMatchObject({
      superseded: true,
    });
    expect(supersession(OWN, [primary({ taskDefinition: `${ARN}/XMirrorIngestTask:7` })])).toMatchObject({
      superseded: true,
    });
    for (const bad of [undefined, '', `${ARN}/MirrorIngestTask`, `${ARN}/MirrorIngestTask:latest`]) {
      expect(taskDefinitionOf(bad)).toBeNull();
    }
  });
});

const CLUSTER = 'Mirror-prod-Platform-IngestCluster938B6556-abc';
const SERVICE = 'Mirror-prod-Platform-IngestService75DFBB08-def';
const META: TaskMetadata = {
  TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/cluster/0123456789abcdef',
  Family: 'MirrorIngestTask',
  Revision: '7',
  ServiceName: SERVICE,
};

describe('DeploymentWatch (ECS DescribeServices through aws-sdk-client-mock)', () => {
  const ecsMock = mockClient(ECSClient);
  const ecs = new ECSClient({ region: 'eu-west-1' });

  beforeEach(() => ecsMock.reset());

  /** A watch on a hand-driven clock: `fire()` moves the clock to the pending timer, runs it, lets the check end. */
  function setup(meta: () => Promise<TaskMetadata> = async () => META) {
    const clock = { ms: 0 };
    const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
    const logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
    /** Protection and drain calls in order, with the clock: what a deploy does to this task. */
    const events: string[] = [];
    let metadataReads = 0;
    const watch = new DeploymentWatch({
      cluster: CLUSTER,
      ecs,
      readTask: () => {
        metadataReads += 1;
        return meta();
      },
      protection: {
        release: async () => {
          events.push(`release@${clock.ms / 1000}`);
        },
        resume: () => events.push(`resume@${clock.ms / 1000}`),
      },
      drain: (cause) => events.push(`drain@${clock.ms / 1000}: ${cause}`),
      log: {
        info: (message, extra) => logs.push({ level: 'info', message, extra }),
        warn: (message, extra) => logs.push({ level: 'warn', message, extra }),
      },
      now: () => clock.ms,
      random: () => 0.5,
      timers: {
        set: (fn, ms) => {
          const t = { fn, ms, cleared: false };
          timers.push(t);
          return t;
        },
        clear: (t) => {
          (t as { cleared: boolean }).cleared = true;
        },
      },
    });
    const pending = () => timers.filter((t) => !t.cleared);
    return {
      watch,
      logs,
      events,
      timers,
      reads: () => metadataReads,
      pending,
      async fire(times = 1) {
        for (let n = 0; n < times; n += 1) {
          const t = timers.at(-1)!;
          expect(t.cleared).toBe(false);
          t.cleared = true;
          clock.ms += t.ms;
          t.fn();
          for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
        }
      },
    };
  }

  const answer = (...deployments: DeploymentView[]) => ({
    // The SDK types rolloutState and status as enums; the views above use the same strings.
    services: [{ serviceName: SERVICE, deployments: deployments as Deployment[] }],
    failures: [],
  });

  it('asks for its own service; once superseded releases protection, and drains itself only if ECS does not stop it', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(answer(primary({ taskDefinition: `${ARN}/MirrorIngestTask:7` })))
      .resolvesOnce(answer(primary({ runningCount: 0 }), old))
      .resolvesOnce(answer(primary({ runningCount: 1 }), old))
      .resolves(answer(primary(), old));
    const w = setup();
    w.watch.start();
    // Every wait is the interval ± 20 %; random() = 0.5 is the interval itself.
    expect(w.timers[0]!.ms).toBe(CHECK_INTERVAL_MS);
    await w.fire(3); // current; new deployment with no task running; one of two
    expect(w.events).toEqual([]);
    await w.fire(); // two of two: superseded at 120 s
    expect(w.events).toEqual(['release@120']);
    // ECS may stop the task now (its SIGTERM drains, main.ts); until SELF_DRAIN_AFTER_MS the watch only waits.
    const checksBefore = SELF_DRAIN_AFTER_MS / CHECK_INTERVAL_MS - 1;
    await w.fire(checksBefore);
    expect(w.events).toEqual(['release@120']);
    await w.fire();
    expect(w.events).toEqual([
      'release@120',
      `drain@${120 + SELF_DRAIN_AFTER_MS / 1000}: superseded by a deployment`,
    ]);
    // Exactly once: no timer left, and a further check does nothing.
    expect(w.pending()).toHaveLength(0);
    expect(await w.watch.check()).toBeNull();
    expect(w.events).toHaveLength(2);

    const calls = ecsMock.commandCalls(DescribeServicesCommand);
    expect(calls).toHaveLength(4 + checksBefore + 1);
    for (const call of calls) {
      expect(call.args[0].input).toEqual({ cluster: CLUSTER, services: [SERVICE] });
    }
    // The metadata does not change: read once.
    expect(w.reads()).toBe(1);
    // One line when the rollout starts waiting, not one per check.
    const waiting = w.logs.filter((l) => l.message.includes('not ready'));
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.extra).toMatchObject({ why: 'not-ready', runningCount: 0, desiredCount: 2 });
  });

  it('keeps serving, protected, while the new deployment is not ready or has failed', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(answer(primary({ runningCount: 1 }), old))
      .resolves(answer(primary({ rolloutState: 'FAILED' }), old));
    const w = setup();
    w.watch.start();
    await w.fire(12);
    expect(w.events).toEqual([]);
    expect(w.pending()).toHaveLength(1);
    expect(w.logs.filter((l) => l.level === 'info').map((l) => l.extra?.why)).toEqual([
      undefined, // watching ...
      'not-ready',
      'failed',
    ]);
    w.watch.stop();
    expect(w.pending()).toHaveLength(0);
  });

  it('takes protection back when the new deployment fails after the release, and waits anew next time', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(answer(primary(), old))
      .resolvesOnce(answer(primary({ rolloutState: 'FAILED' }), old))
      .resolvesOnce(answer(primary({ taskDefinition: `${ARN}/MirrorIngestTask:7`, id: 'rollback' })))
      .resolves(answer(primary({ taskDefinition: `${ARN}/MirrorIngestTask:9`, id: 'next' })));
    const w = setup();
    w.watch.start();
    await w.fire(3);
    expect(w.events).toEqual(['release@30', 'resume@60']);
    await w.fire(); // a later deployment supersedes it: released again at 120 s, drained 180 s after that
    await w.fire(SELF_DRAIN_AFTER_MS / CHECK_INTERVAL_MS);
    expect(w.events).toEqual([
      'release@30',
      'resume@60',
      'release@120',
      `drain@${120 + SELF_DRAIN_AFTER_MS / 1000}: superseded by a deployment`,
    ]);
  });

  it('warns once per failing spell (metadata or ECS), retries at the next check, and says when it works again', async () => {
    let metadataUp = false;
    ecsMock
      .on(DescribeServicesCommand)
      .rejectsOnce(new Error('ThrottlingException: Rate exceeded'))
      .rejectsOnce(new Error('ThrottlingException: Rate exceeded'))
      .resolvesOnce({ services: [], failures: [{ arn: SERVICE, reason: 'MISSING' }] })
      .resolves(answer(primary(), old));
    const w = setup(async () => {
      if (!metadataUp) throw new Error('connect ECONNREFUSED 169.254.170.2:80');
      return META;
    });
    w.watch.start();
    await w.fire(2);
    metadataUp = true;
    await w.fire(3);
    expect(w.events).toEqual([]);
    const warnings = w.logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.extra?.error).toContain('ECONNREFUSED');
    await w.fire();
    expect(w.logs.some((l) => l.message === 'deployment watch works again' && l.extra?.failures === 5)).toBe(
      true,
    );
    expect(w.events).toEqual(['release@180']);
  });

  it('names a service that ECS reports missing', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    const w = setup();
    expect(await w.watch.check()).toBeNull();
    expect(w.logs.find((l) => l.level === 'warn')?.extra?.error).toBe(
      `service ${SERVICE} in cluster ${CLUSTER}: MISSING`,
    );
  });

  it('turns itself off for a task no service started (no ServiceName in the metadata)', async () => {
    const w = setup(async () => ({ ...META, ServiceName: undefined }));
    w.watch.start();
    await w.fire();
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(0);
    expect(w.pending()).toHaveLength(0);
    expect(w.logs.map((l) => l.message)).toEqual([
      'deployment watch off: the task metadata names no service',
    ]);
  });

  it('does not act on an answer that arrives after stop() (a SIGTERM drain already under way)', async () => {
    let answerNow: (v: unknown) => void = () => {};
    ecsMock.on(DescribeServicesCommand).callsFake(
      () =>
        new Promise((resolve) => {
          answerNow = resolve;
        }),
    );
    const w = setup();
    const checking = w.watch.check();
    for (let i = 0; i < 10; i += 1) await new Promise((r) => setImmediate(r));
    w.watch.stop();
    answerNow(answer(primary(), old));
    expect(await checking).toBeNull();
    expect(w.events).toEqual([]);
  });

  it('spreads its checks over the interval ± 20 %', () => {
    for (const [random, ms] of [
      [0, CHECK_INTERVAL_MS * 0.8],
      [1, CHECK_INTERVAL_MS * 1.2],
    ] as const) {
      const set: number[] = [];
      new DeploymentWatch({
        cluster: CLUSTER,
        ecs,
        readTask: async () => META,
        protection: null,
        drain: () => {},
        log: { info() {}, warn() {} },
        random: () => random,
        timers: { set: (_fn, at) => set.push(at), clear() {} },
      }).start();
      expect(set).toEqual([ms]);
    }
  });
});

describe('deployment watch wiring (main.ts)', () => {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/v4/abc/task' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(META));
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
  afterAll(() => new Promise((r) => server.close(r)));

  it('reads the task from the metadata endpoint', async () => {
    const base = await listening;
    expect(await fetchTaskMetadata(`${base}/v4/abc`)).toEqual(META);
    await expect(fetchTaskMetadata(`${base}/v4/other`)).rejects.toThrow('HTTP 404');
  });

  it('starts only on ECS: the metadata endpoint and MIRROR_ECS_CLUSTER both set', async () => {
    const base = await listening;
    const deps = { protection: null, drain: () => {}, log: { info() {}, warn() {} } };
    const uri = { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/abc` };
    expect(startDeploymentWatch({}, deps, uri)).toBeNull();
    expect(startDeploymentWatch({ MIRROR_ECS_CLUSTER: CLUSTER }, deps, {})).toBeNull();
    const watch = startDeploymentWatch({ MIRROR_ECS_CLUSTER: CLUSTER }, deps, uri);
    expect(watch).toBeInstanceOf(DeploymentWatch);
    watch?.stop();
  });
});

describe('TaskProtection.release and resume (a superseded task drops its scale-in protection)', () => {
  it('turns protection off while still publishing, keeps it off until resume(), then protects again', async () => {
    const sent: unknown[] = [];
    const clock = { ms: 0 };
    const protection = new TaskProtection({
      agentUri: 'http://agent',
      log: { info() {}, warn() {} },
      now: () => clock.ms,
      fetch: (async (_url: string, init: RequestInit) => {
        const body = JSON.parse(String(init.body)) as { ProtectionEnabled: boolean };
        sent.push(body);
        return Response.json({ protection: { ProtectionEnabled: body.ProtectionEnabled } });
      }) as typeof fetch,
    });
    await protection.update(2);
    await protection.release();
    // The status tick keeps reporting publishers while the drain moves them, well past the renewal time.
    for (const ms of [1000, 2000, 30 * 60_000]) {
      clock.ms = ms;
      await protection.update(2);
    }
    expect(sent).toEqual([{ ProtectionEnabled: true, ExpiresInMinutes: 60 }, { ProtectionEnabled: false }]);
    // The new deployment failed: publishing protects the task again at the next tick.
    protection.resume();
    await protection.update(2);
    expect(sent.at(-1)).toEqual({ ProtectionEnabled: true, ExpiresInMinutes: 60 });
  });
});
