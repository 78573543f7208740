import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the health answer is made of, read when the request is answered. */
export interface HealthInputs {
  readonly redis: boolean;
  readonly draining: boolean;
  /** The SRT listener is bound and accepting callers. */
  readonly srt: boolean;
  readonly taskId: string;
  readonly streams: number;
  readonly capacity: number;
  readonly gpu: boolean;
  /** Streams known from the registry. */
  readonly registry: number;
}

export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly body: { readonly ok: boolean; readonly degraded: boolean } & HealthInputs;
}

/**
 * Pure. 503 only for "this task cannot serve": it drains (the load balancer should stop sending callers) or its SRT
 * listener is down. Redis unreachable is "degraded" (200, `redis: false, degraded: true`): publishers keep flowing
 * and media keeps being stored through an outage or a failover, and a 503 there would have ECS replace every healthy
 * task at once during an ElastiCache failover (decision D18).
 */
export function healthAnswer(inputs: HealthInputs): HealthAnswer {
  const ok = inputs.srt && !inputs.draining;
  return {
    status: ok ? 200 : 503,
    body: {
      ok,
      degraded: !inputs.redis,
      redis: inputs.redis,
      draining: inputs.draining,
      srt: inputs.srt,
      taskId: inputs.taskId,
      streams: inputs.streams,
      capacity: inputs.capacity,
      gpu: inputs.gpu,
      registry: inputs.registry,
    },
  };
}

/**
 * A health check must answer within the load balancer's timeout whatever Redis does: a PING without a reply
 * within this counts as Redis down (the client's own command timeout is longer).
 */
export const HEALTH_REDIS_PING_TIMEOUT_MS = 500;

export interface HealthServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly taskId: string;
  readonly capacity: number;
  readonly gpu: boolean;
  /** Resolves when Redis answers a PING. */
  readonly pingRedis: () => Promise<unknown>;
  readonly activeStreams: () => number;
  readonly draining: () => boolean;
  /** Whether the SRT listener is up; always true when not given. */
  readonly srtListening?: () => boolean;
  readonly registrySize: () => number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** GET /health (or /) for the load balancer's and ECS's health checks; anything else is a JSON 404. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    if (req.url !== '/health' && req.url !== '/') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const streams = options.activeStreams();
    void pingWithin(options.pingRedis, HEALTH_REDIS_PING_TIMEOUT_MS).then((redis) => {
      const answer = healthAnswer({
        redis,
        draining: options.draining(),
        srt: options.srtListening?.() ?? true,
        taskId: options.taskId,
        streams,
        capacity: options.capacity,
        gpu: options.gpu,
        registry: options.registrySize(),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** True when `ping` resolves within `timeoutMs`. */
async function pingWithin(ping: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      ping().then(
        () => true,
        () => false,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
