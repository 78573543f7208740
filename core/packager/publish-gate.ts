import type { Logger } from '../logger.js';
import { OutageNotice } from '../outage.js';

/**
 * While publishes fail, try again at most this often. Each part would otherwise wait for its own failed publish
 * (up to the Redis command timeout) and the rendition's queue, with the storage writes in it, would fall behind.
 */
export const PUBLISH_PROBE_INTERVAL_MS = 500;

/**
 * Keeps a rendition going through a live-state outage (Redis unreachable, failing over). A publish carries the whole
 * in-memory timeline, so one that gets through after an outage lists every part stored meanwhile with its own
 * numbers: nothing is renumbered, no MSN is reused, and no discontinuity is needed where media was stored. So during
 * an outage publishes are skipped rather than queued, except one probe at a time, which is not awaited: parts keep
 * being stored at their own pace. One warning per outage, one line when it ends.
 */
export class PublishGate {
  private readonly outage: OutageNotice;
  private lastFailureAt = 0;
  private probe: Promise<void> | null = null;
  private skipped = 0;

  constructor(
    log: Pick<Logger, 'warn' | 'info'>,
    private readonly where: Readonly<Record<string, unknown>>,
    private readonly clock: () => number,
  ) {
    this.outage = new OutageNotice(log, 'live-state publish');
  }

  /**
   * Runs `publish` and resolves true once it succeeded; false when it failed or was skipped (an outage is on and a
   * probe is in flight or recent). `force` (the final publish of a rendition) always tries, and waits for the answer.
   */
  async run(publish: () => Promise<void>, force = false): Promise<boolean> {
    if (!this.outage.failing || force) return this.attempt(publish);
    if (this.probe !== null || this.clock() - this.lastFailureAt < PUBLISH_PROBE_INTERVAL_MS) {
      this.skipped += 1;
      return false;
    }
    this.probe = this.attempt(publish).then(() => {
      this.probe = null;
    });
    return false;
  }

  private async attempt(publish: () => Promise<void>): Promise<boolean> {
    try {
      await publish();
    } catch (error) {
      this.lastFailureAt = this.clock();
      this.outage.failed(error, { ...this.where, publishing: 'skipped until a probe succeeds' });
      return false;
    }
    this.outage.succeeded({ ...this.where, skipped: this.skipped });
    this.skipped = 0;
    return true;
  }
}
