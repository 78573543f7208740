import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the health answer is made of, read when the request is answered. */
export interface HealthInputs {
  readonly redis: boolean;
  readonly draining: boolean;
  readonly taskId: string;
  readonly streams: number;
  readonly capacity: number;
  readonly gpu: boolean;
  /** Streams known from the registry. */
  readonly registry: number;
}

export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly body: { readonly ok: boolean } & HealthInputs;
}

/** Pure: healthy (200) while Redis answers and the task is not draining; 503 otherwise, with the same body. */
export function healthAnswer(inputs: HealthInputs): HealthAnswer {
  const ok = inputs.redis && !inputs.draining;
  return {
    status: ok ? 200 : 503,
    body: {
      ok,
      redis: inputs.redis,
      draining: inputs.draining,
      taskId: inputs.taskId,
      streams: inputs.streams,
      capacity: inputs.capacity,
      gpu: inputs.gpu,
      registry: inputs.registry,
    },
  };
}

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
    void options
      .pingRedis()
      .then(() => true)
      .catch(() => false)
      .then((redis) => {
        const answer = healthAnswer({
          redis,
          draining: options.draining(),
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
