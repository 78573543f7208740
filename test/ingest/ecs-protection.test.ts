import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PROTECTION_MINUTES,
  RENEW_AFTER_MS,
  RETRY_MAX_MS,
  TaskProtection,
} from '../../containers/ingest/src/ecs-protection.js';

const AGENT = 'http://169.254.170.2/api/task-arn';
const URL_ = `${AGENT}/task-protection/v1/state`;
const ON = { ProtectionEnabled: true, ExpiresInMinutes: 60 };
const OFF = { ProtectionEnabled: false };

interface Sent {
  readonly atMs: number;
  readonly url: string;
  readonly method: string | undefined;
  readonly headers: unknown;
  readonly body: unknown;
}

/** The agent endpoint as a function: records each request and answers as the agent does (or fails on demand). */
function fakeAgent(clock: { ms: number }) {
  const sent: Sent[] = [];
  let failNext = 0;
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as { ProtectionEnabled: boolean };
    sent.push({ atMs: clock.ms, url, method: init.method, headers: init.headers, body });
    if (failNext > 0) {
      failNext -= 1;
      return Response.json(
        { error: { Code: 'ThrottlingException', Message: 'Rate exceeded' } },
        { status: 500 },
      );
    }
    return Response.json({ protection: { ProtectionEnabled: body.ProtectionEnabled, TaskArn: 'arn:task' } });
  }) as typeof fetch;
  return {
    sent,
    fetchImpl,
    failing(n: number) {
      failNext = n;
    },
  };
}

function setup() {
  const clock = { ms: 0 };
  const agent = fakeAgent(clock);
  const logs: { level: string; message: string }[] = [];
  const log = {
    info: (message: string) => logs.push({ level: 'info', message }),
    warn: (message: string) => logs.push({ level: 'warn', message }),
  };
  const protection = new TaskProtection({
    agentUri: AGENT,
    log,
    fetch: agent.fetchImpl,
    now: () => clock.ms,
  });
  /** One status tick per second for `seconds`, with `active` publishers. */
  const run = async (seconds: number, active: number) => {
    for (let i = 0; i < seconds; i++) {
      await protection.update(active);
      clock.ms += 1000;
    }
  };
  return { clock, agent, logs, protection, run };
}

describe('ECS task scale-in protection (agent endpoint)', () => {
  it('protects when the first publisher arrives, with the exact agent request, and nothing while idle', async () => {
    const { agent, protection, run } = setup();
    await run(5, 0);
    expect(agent.sent).toEqual([]);
    await protection.update(1);
    expect(agent.sent).toEqual([
      {
        atMs: 5000,
        url: URL_,
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: ON,
      },
    ]);
    expect(PROTECTION_MINUTES).toBe(60);
  });

  it('renews before the protection expires while the task keeps publishing for hours, and drops it at 0', async () => {
    const { agent, run } = setup();
    await run(3 * 3600, 2);
    const renewals = agent.sent.map((s) => s.atMs);
    // Every 20 minutes: a protection set at t is renewed at t + 20 min, well before it lapses at t + 60 min.
    expect(renewals).toEqual(Array.from({ length: 9 }, (_, i) => (i * RENEW_AFTER_MS) as number));
    for (let i = 1; i < renewals.length; i++)
      expect(renewals[i]! - renewals[i - 1]!).toBeLessThan(PROTECTION_MINUTES * 60_000);
    expect(agent.sent.every((s) => JSON.stringify(s.body) === JSON.stringify(ON))).toBe(true);
    await run(2, 0);
    expect(agent.sent.at(-1)).toMatchObject({ atMs: 3 * 3600 * 1000, body: OFF });
    expect(agent.sent).toHaveLength(10);
  });

  it('protects again at once when publishing resumes (0 -> 1), whatever the renewal clock says', async () => {
    const { agent, run } = setup();
    await run(10, 1);
    await run(10, 0);
    await run(1, 3);
    expect(agent.sent.map((s) => [s.atMs, s.body])).toEqual([
      [0, ON],
      [10_000, OFF],
      [20_000, ON],
    ]);
  });

  it('retries a failed renewal with backoff and warns once per failing spell', async () => {
    const { agent, logs, clock, run } = setup();
    await run(1, 1);
    clock.ms = RENEW_AFTER_MS;
    agent.failing(4);
    await run(30, 1);
    const retries = agent.sent.slice(1).map((s) => (s.atMs - RENEW_AFTER_MS) / 1000);
    // Failed at +0, retried after 1, 2, 4 and 8 s; the fifth attempt succeeds.
    expect(retries).toEqual([0, 1, 3, 7, 15]);
    expect(logs).toEqual([
      { level: 'warn', message: 'task protection not updated; retrying with backoff' },
      { level: 'info', message: 'task protection updated again' },
    ]);
    // Renewed again 20 minutes after the successful attempt, not after the first failure.
    const before = agent.sent.length;
    clock.ms = RENEW_AFTER_MS + 15_000 + RENEW_AFTER_MS - 2000;
    await run(3, 1);
    expect(agent.sent.slice(before).map((s) => s.atMs)).toEqual([RENEW_AFTER_MS + 15_000 + RENEW_AFTER_MS]);
  });

  it('caps the backoff at a minute and keeps trying while the agent fails', async () => {
    const { agent, run } = setup();
    agent.failing(1000);
    await run(10 * 60, 1);
    const gaps = agent.sent.slice(1).map((s, i) => s.atMs - agent.sent[i]!.atMs);
    expect(Math.max(...gaps)).toBe(RETRY_MAX_MS);
    expect(gaps.slice(-3)).toEqual([RETRY_MAX_MS, RETRY_MAX_MS, RETRY_MAX_MS]);
  });

  it('treats an agent answer without the protection state (a failure body with 200) as failed', async () => {
    const clock = { ms: 0 };
    const warns: unknown[] = [];
    const protection = new TaskProtection({
      agentUri: AGENT,
      log: { info: () => {}, warn: (_m: string, extra?: unknown) => warns.push(extra) },
      fetch: (async () =>
        Response.json({
          failure: { Arn: 'arn:task', Detail: null, Reason: 'TASK_NOT_VALID' },
        })) as typeof fetch,
      now: () => clock.ms,
    });
    await protection.update(1);
    expect(warns).toEqual([{ enabled: true, error: 'HTTP 200: failure TASK_NOT_VALID' }]);
  });

  it('clear() drops protection at exit; outside ECS there is no protection at all', async () => {
    const { agent, protection, run } = setup();
    await run(1, 1);
    await protection.clear();
    expect(agent.sent.map((s) => s.body)).toEqual([ON, OFF]);
    await protection.clear();
    expect(agent.sent).toHaveLength(2);
    expect(TaskProtection.fromEnvironment({ info() {}, warn() {} }, {})).toBeNull();
  });
});

describe('ECS task scale-in protection over HTTP', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('sends the PUT the agent expects to $ECS_AGENT_URI/task-protection/v1/state', async () => {
    const requests: { method?: string; url?: string; type?: string; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        const enabled = (JSON.parse(body) as { ProtectionEnabled: boolean }).ProtectionEnabled;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ protection: { ProtectionEnabled: enabled, TaskArn: 'arn:task' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    close = () => new Promise((r) => server.close(() => r()));
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/abc`;
    const protection = TaskProtection.fromEnvironment({ info() {}, warn() {} }, { ECS_AGENT_URI: uri })!;
    await protection.update(1);
    await protection.clear();
    expect(requests).toEqual([
      {
        method: 'PUT',
        url: '/v4/abc/task-protection/v1/state',
        type: 'application/json',
        body: '{"ProtectionEnabled":true,"ExpiresInMinutes":60}',
      },
      {
        method: 'PUT',
        url: '/v4/abc/task-protection/v1/state',
        type: 'application/json',
        body: '{"ProtectionEnabled":false}',
      },
    ]);
  });
});
