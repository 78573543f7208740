import type { Feed } from './encoders/feeds.js';
import type { Managed } from './processes.js';

/** The pid of a child the platform runs now, or undefined while none runs (a child may be replaced: the ingest). */
type PidSource = () => number | undefined;

/** One thing to undo at stop(), synchronous or not. */
type StopStep = () => unknown;

/**
 * What the platform has started and how to undo it. Steps run in reverse order of adding (the edge
 * closes before the Redis connections, redis-server stops last); a failing step is reported and the rest
 * still run. It also knows every child process: to name their pids, and to kill what is left when this
 * process exits without stopping them.
 */
export class Teardown {
  readonly #steps: StopStep[] = [];
  readonly #pids: PidSource[] = [];

  constructor(private readonly onStepFailed: (error: unknown) => void) {}

  /** A step for stop(): it runs before every step added earlier. */
  add(step: StopStep): void {
    this.#steps.push(step);
  }

  /** A child process the platform stops itself, with SIGKILL after graceMs (default: Managed's). */
  manage(managed: Managed, graceMs?: number): void {
    const { child } = managed;
    this.trackPid(() => (child.exitCode === null && child.signalCode === null ? child.pid : undefined));
    this.add(() => managed.stop(graceMs));
  }

  /** An encoder's ffmpeg, for pids() and the exit guard; whoever starts feeds adds the step that stops them. */
  trackFeed(feed: Feed): void {
    this.trackPid(() => feed.pid);
  }

  /** A child that may be replaced while the platform runs (redis-server, the ingest): its current pid, if any. */
  trackPid(source: PidSource): void {
    this.#pids.push(source);
  }

  /**
   * The children run in process groups of their own (Ctrl-C reaches only this process, which stops them in
   * order), so they would outlive a crash of this process: its exit kills what is left.
   */
  guardExit(): void {
    const killLeftovers = () => this.#killLeftovers();
    process.once('exit', killLeftovers);
    this.add(() => process.off('exit', killLeftovers));
  }

  /** Pids of every child still known (for checks that nothing is left running). */
  pids(): number[] {
    return this.#pids.map((source) => source()).filter((pid): pid is number => pid !== undefined);
  }

  /** Runs every step once, newest first. */
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.onStepFailed(error);
      }
    }
  }

  #killLeftovers(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
}
