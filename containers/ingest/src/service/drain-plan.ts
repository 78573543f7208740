/**
 * Pure: when a draining task tells each of its publishers to move. Re-planned on every drain tick from what is
 * true then (other tasks' free slots, publishers still connected), so a plan is never stale for long.
 */

/** What the publisher is told when its connection closes (logged here, in the close event and the status). */
export const DRAIN_REASON = 'task draining: reconnect';
/** Between two closes: reconnecting encoders reach the new task one at a time (probe, ffmpeg, lease each). */
export const DRAIN_SPACING_MS = 250;
/**
 * Kept free at the end of the drain window for what follows the last close: ffmpeg flushes, the open segments are
 * finished and published, leases and the task report are deleted. A quarter of a short window.
 */
export const DRAIN_MARGIN_MS = 10_000;
/**
 * A publisher moved for capacity shows in the other task's report only once it reconnected there and that task's
 * status tick ran (encoder retry about 1 s, report every 1 s): until then its slot counts as taken.
 */
export const MOVE_SETTLE_MS = 10_000;
/** A task report older than this is not trusted to mean "ready" (reports are written every second). */
export const REPORT_MAX_AGE_MS = 5_000;

export type DrainCause = 'capacity' | 'deadline';

export interface DrainStep {
  readonly streamId: string;
  readonly atMs: number;
  /** 'capacity': another task has a free slot for it now; 'deadline': the drain window runs out. */
  readonly cause: DrainCause;
}

export interface DrainPlanInput {
  readonly nowMs: number;
  /** By when the last publisher must be closed: drain start + window - margin (drainCloseBy). */
  readonly closeByMs: number;
  readonly spacingMs: number;
  /** When this drain last closed a publisher; null before the first. */
  readonly lastCloseMs: number | null;
  /** Free publisher slots on other, non-draining tasks, from their reports (freeCapacityElsewhere). */
  readonly freeElsewhere: number;
  /** Publishers closed for capacity within MOVE_SETTLE_MS: their new task's report may not count them yet. */
  readonly inFlight: number;
  /** Streams still published here, in the order they should move (oldest connection first). */
  readonly open: readonly string[];
}

/** The close time of the last publisher: the drain window less the margin (never before the drain starts). */
export function drainCloseBy(startMs: number, windowMs: number): number {
  return startMs + Math.max(0, windowMs - Math.min(DRAIN_MARGIN_MS, windowMs / 4));
}

/**
 * One step per open stream, in order, `spacingMs` apart (less when the window cannot hold them all): the first
 * `freeElsewhere - inFlight` as soon as possible, the rest as late as the window allows, so they keep publishing
 * here while nobody can take them. Past the deadline, everything is due now.
 */
export function planDrain(input: DrainPlanInput): DrainStep[] {
  const n = input.open.length;
  if (n === 0) return [];
  const window = Math.max(0, input.closeByMs - input.nowMs);
  const spacing = n > 1 ? Math.min(input.spacingMs, window / (n - 1)) : input.spacingMs;
  const first = Math.max(input.nowMs, input.lastCloseMs === null ? input.nowMs : input.lastCloseMs + spacing);
  const movable = Math.max(0, Math.min(n, input.freeElsewhere - input.inFlight));
  const last = Math.max(input.closeByMs, first + (n - 1) * spacing);
  return input.open.map((streamId, i) => {
    const asap = first + i * spacing;
    if (i < movable) return { streamId, atMs: asap, cause: 'capacity' };
    // Slot from the end: the last stream closes at the deadline, each one before it a spacing earlier.
    return { streamId, atMs: Math.max(asap, last - (n - 1 - i) * spacing), cause: 'deadline' };
  });
}

/** The part of a task report the drain reads (core/streams/status.ts TaskReport, plus `draining`). */
export interface PeerReport {
  readonly taskId: string;
  readonly capacity?: number;
  readonly streams?: number;
  readonly draining?: unknown;
  readonly updatedAt?: string;
}

/**
 * Free publisher slots on the other tasks that can take a stream now: reported within `maxAgeMs`, not draining
 * themselves. A report without capacity counts as none (it cannot promise a slot).
 */
export function freeCapacityElsewhere(
  reports: readonly PeerReport[],
  selfTaskId: string,
  nowMs: number,
  maxAgeMs = REPORT_MAX_AGE_MS,
): number {
  let free = 0;
  for (const r of reports) {
    if (r.taskId === selfTaskId || r.draining === true) continue;
    const at = r.updatedAt === undefined ? Number.NaN : Date.parse(r.updatedAt);
    if (!(nowMs - at <= maxAgeMs)) continue;
    free += Math.max(0, (r.capacity ?? 0) - (r.streams ?? 0));
  }
  return free;
}
