import type { Logger } from './logger.js';

/**
 * One warning per outage instead of one per attempt: a write repeated every tick or every part (status, lease,
 * live-state publish) that fails for 30 s would otherwise log hundreds of identical lines. The first failure is a
 * warning; later ones are only counted; the first success after them logs how long it lasted and how many failed.
 */
export class OutageNotice {
  private since: number | null = null;
  private failures = 0;

  constructor(
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    /** What fails, in the log lines ("live-state publish", "status write"). */
    private readonly what: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True between a failure and the next success. */
  get failing(): boolean {
    return this.since !== null;
  }

  failed(error: unknown, extra: Record<string, unknown> = {}): void {
    this.failures += 1;
    if (this.since !== null) return;
    this.since = this.clock();
    this.log.warn(`${this.what} failing`, {
      ...extra,
      error: error instanceof Error ? error.message : String(error),
    });
  }

  succeeded(extra: Record<string, unknown> = {}): void {
    if (this.since === null) return;
    this.log.info(`${this.what} recovered`, {
      ...extra,
      failures: this.failures,
      outageMs: this.clock() - this.since,
    });
    this.since = null;
    this.failures = 0;
  }
}
