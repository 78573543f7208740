import type { Redis } from 'ioredis';
import type { Logger } from '../../../../core/logger.js';
import { taskKeys } from '../../../../core/streams/keys.js';
import {
  DRAIN_REASON,
  DRAIN_SPACING_MS,
  type DrainCause,
  drainCloseBy,
  freeCapacityElsewhere,
  MOVE_SETTLE_MS,
  type PeerReport,
  planDrain,
} from './drain-plan.js';
import type { ConnectionCloser, Session, SessionPipeline, Sessions } from './sessions.js';

/** How often the drain looks again at the other tasks and its own publishers. */
const DRAIN_TICK_MS = 100;
/** Other tasks' reports are read at most this often (a drain tick is shorter than a report interval). */
const REPORT_READ_MS = 500;

export interface DrainOptions {
  /** How long ECS lets the task run after SIGTERM (the container's stop timeout, MIRROR_DRAIN_S). */
  readonly windowMs: number;
  readonly spacingMs?: number;
}

export interface DrainSummary {
  /** Publishers closed because another task had room for them. */
  readonly movedForCapacity: number;
  /** Publishers closed because the drain window ran out. */
  readonly closedAtDeadline: number;
  /** Sessions ended (renditions finished, lease released), including those without a publisher. */
  readonly ended: number;
}

export interface DrainDeps<P extends SessionPipeline> {
  readonly taskId: string;
  readonly sessions: Pick<Sessions<P>, 'publishing' | 'values' | 'end'>;
  readonly connections: ConnectionCloser;
  /** The other tasks' reports (readTaskReports); a failure counts as "nobody can take them". */
  readonly peers: () => Promise<readonly PeerReport[]>;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Moves this task's publishers elsewhere (the task already refuses new ones): re-plans every tick with planDrain,
 * closes each due publisher with DRAIN_REASON, and ends every session whose publisher is gone so its renditions
 * finish and its lease is released (only then: the task taking over resumes from the final live state).
 * Resolves once every session has ended.
 */
export async function runDrain<P extends SessionPipeline>(
  deps: DrainDeps<P>,
  options: DrainOptions,
): Promise<DrainSummary> {
  const now = deps.now ?? Date.now;
  const startMs = now();
  const closeByMs = drainCloseBy(startMs, options.windowMs);
  const spacingMs = options.spacingMs ?? DRAIN_SPACING_MS;
  const endings = new Map<Session<P>, Promise<void>>();
  const moves: number[] = [];
  const counts: Record<DrainCause, number> = { capacity: 0, deadline: 0 };
  let lastCloseMs: number | null = null;
  let peers = { atMs: Number.NEGATIVE_INFINITY, free: 0 };
  const readPeers = peerReader(deps);

  for (;;) {
    for (const session of [...deps.sessions.values()]) {
      if (session.conn || endings.has(session)) continue;
      endings.set(
        session,
        deps.sessions.end(session, { handover: true }).catch((error: unknown) => {
          deps.log.warn('drain: ending a session failed', {
            streamId: session.streamId,
            error: String(error),
          });
        }),
      );
    }
    const open = deps.sessions
      .publishing()
      .filter((s) => !endings.has(s))
      .sort((a, b) => a.connectedAt - b.connectedAt);
    if (open.length === 0) break;
    const t = now();
    if (t - peers.atMs >= REPORT_READ_MS) peers = { atMs: t, free: await readPeers(t) };
    while (moves.length > 0 && moves[0]! <= t - MOVE_SETTLE_MS) moves.shift();
    const plan = planDrain({
      nowMs: t,
      closeByMs,
      spacingMs,
      lastCloseMs,
      freeElsewhere: peers.free,
      inFlight: moves.length,
      open: open.map((s) => s.streamId),
    });
    for (const step of plan) {
      if (step.atMs > t) break;
      const session = open.find((s) => s.streamId === step.streamId);
      if (!session?.conn) continue;
      deps.log.info('telling a publisher to move', {
        streamId: step.streamId,
        cause: step.cause,
        freeElsewhere: peers.free,
        msToDeadline: Math.round(closeByMs - t),
      });
      deps.connections.close(session.conn.id, DRAIN_REASON);
      lastCloseMs = t;
      counts[step.cause] += 1;
      if (step.cause === 'capacity') moves.push(t);
    }
    // The close event arrives on a later turn (the native thread); the next tick ends the session.
    const next = plan.find((s) => s.atMs > t)?.atMs ?? t + DRAIN_TICK_MS;
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(DRAIN_TICK_MS, next - t))));
  }
  await Promise.all(endings.values());
  return { movedForCapacity: counts.capacity, closedAtDeadline: counts.deadline, ended: endings.size };
}

/** Free slots elsewhere, 0 while the reports cannot be read (warned once per failing spell). */
function peerReader<P extends SessionPipeline>(deps: DrainDeps<P>): (nowMs: number) => Promise<number> {
  let failing = false;
  return async (nowMs) => {
    try {
      const free = freeCapacityElsewhere(await deps.peers(), deps.taskId, nowMs);
      failing = false;
      return free;
    } catch (error) {
      if (!failing) {
        deps.log.warn('drain: other tasks unknown (Redis); publishers stay until the deadline', {
          error: String(error),
        });
      }
      failing = true;
      return 0;
    }
  };
}

/** Every task report in the index (mirror:tasks + mirror:task:{id}); the planner filters by age and draining. */
export async function readTaskReports(redis: Redis): Promise<PeerReport[]> {
  const ids = await redis.zrange(taskKeys.index, '0', '-1');
  if (ids.length === 0) return [];
  const raws = await redis.mget(ids.map((id) => taskKeys.report(id)));
  return raws.flatMap((raw) => {
    if (raw === null) return [];
    try {
      const report = JSON.parse(raw) as PeerReport;
      return typeof report?.taskId === 'string' ? [report] : [];
    } catch {
      return [];
    }
  });
}
