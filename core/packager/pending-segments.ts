import type { Logger } from '../logger.js';
import { Backoff, type MediaWriter } from './media-writer.js';

/**
 * Complete segments whose bytes are kept for retries: beyond this many, the oldest one's bytes are let go (it can
 * then never be stored, and waits unlisted until it leaves the window). Two segments are at most 2 x the
 * forced-close bound of media (a few MB at 20 Mbit/s), on top of the write queue's bound.
 */
export const MAX_PENDING_SEGMENT_BYTES_KEPT = 2;

interface Entry {
  readonly msn: number;
  readonly key: string;
  bytes: Uint8Array | undefined;
  readonly backoff: Backoff;
}

/**
 * Complete segments that could not be stored although their parts were (decision D21). A segment's URI is listed
 * as soon as it closes, so while one is missing the rendition publishes nothing (every publish would name it). Each
 * is retried under a backoff with the bytes it was made of; once stored, publishing resumes and lists everything
 * stored meanwhile. One that never gets stored stops blocking when it leaves the window (it is then never named).
 */
export class PendingSegments {
  private entries: Entry[] = [];

  constructor(
    private readonly writer: MediaWriter,
    private readonly clock: () => number,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly where: Readonly<Record<string, unknown>>,
  ) {}

  get count(): number {
    return this.entries.length;
  }

  /** A segment whose write was given up (`bytes` undefined: it cannot be made again). */
  add(segment: { msn: number; key: string; bytes: Uint8Array | undefined }): void {
    const backoff = new Backoff();
    backoff.failed(this.clock());
    this.entries.push({ ...segment, backoff });
    const keeping = this.entries.filter((e) => e.bytes !== undefined);
    for (const e of keeping.slice(0, Math.max(0, keeping.length - MAX_PENDING_SEGMENT_BYTES_KEPT))) {
      e.bytes = undefined;
    }
  }

  /** Forgets segments below the window's first msn; true while a listed segment is not stored. */
  blocks(windowStartMsn: number): boolean {
    this.prune(windowStartMsn);
    return this.entries.length > 0;
  }

  /** One attempt at each entry whose backoff allows (at each one with `now`); stored entries leave. */
  async retry(windowStartMsn: number, now = false): Promise<void> {
    this.prune(windowStartMsn);
    for (const e of [...this.entries]) {
      if (e.bytes === undefined || !(now || e.backoff.due(this.clock()))) continue;
      if (await this.writer.tryOnce(e.key, e.bytes, 'segment')) {
        this.entries = this.entries.filter((x) => x !== e);
      } else {
        e.backoff.failed(this.clock());
      }
    }
  }

  private prune(windowStartMsn: number): void {
    const leaving = this.entries.filter((e) => e.msn < windowStartMsn);
    if (leaving.length === 0) return;
    this.entries = this.entries.filter((e) => e.msn >= windowStartMsn);
    this.log.warn('segments never stored left the window unlisted; publishing resumes', {
      ...this.where,
      msns: leaving.map((e) => e.msn),
    });
  }
}
