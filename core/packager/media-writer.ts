import type { Logger } from '../logger.js';
import { OutageNotice } from '../outage.js';
import type { MediaClass } from '../storage/keys.js';
import type { MediaStorage } from '../storage/storage.js';

/** A write is tried this many times, 50 then 100 ms apart, before it is given up (a transient 500 or reset). */
export const PUT_ATTEMPTS = 3;
export const PUT_RETRY_DELAY_MS = 50;
/**
 * What cannot be given up (an init segment, a complete segment already named by its parts) is tried again later,
 * one attempt at a time, 250 ms after the first failure and doubling to 1 s, forever. While one is missing the
 * rendition publishes nothing, so the cap is how long publishing stays held after storage is back: the fault suite
 * measured 5.3 s of recovery after an S3 outage with a 5 s cap. Each attempt is bounded by the storage's own
 * deadline, and at most MAX_PENDING_SEGMENT_BYTES_KEPT segments and one init are retried per rendition, so an outage
 * costs the write queue a few attempts per second.
 */
export const RETRY_MIN_MS = 250;
export const RETRY_MAX_MS = 1000;

/** When the next attempt of a write that failed may run. */
export class Backoff {
  private delayMs = RETRY_MIN_MS;
  private nextAtMs = 0;
  /** Failed attempts so far. */
  failures = 0;

  due(nowMs: number): boolean {
    return nowMs >= this.nextAtMs;
  }

  failed(nowMs: number): void {
    this.failures += 1;
    this.nextAtMs = nowMs + this.delayMs;
    this.delayMs = Math.min(RETRY_MAX_MS, this.delayMs * 2);
  }
}

export interface WriteFailure {
  readonly key: string;
  readonly mediaClass: MediaClass;
  readonly error: string;
}

/**
 * Puts media through the storage port with retries, and counts what it had to give up: the rendition's storage
 * figures (status) and the write-failure events (metrics) come from here. One warning per storage outage, one line
 * when writes succeed again (core/outage.ts), never one per part.
 */
export class MediaWriter {
  /** Writes given up: a put after all its attempts, or one retry attempt of a pending write. */
  failedWrites = 0;
  lastError: string | undefined;
  lastFailureAtMs: number | undefined;
  private readonly outage: OutageNotice;

  constructor(
    private readonly storage: MediaStorage,
    private readonly clock: () => number,
    log: Pick<Logger, 'warn' | 'info'>,
    private readonly where: Readonly<Record<string, unknown>>,
    private readonly onFailure: (failure: WriteFailure) => void,
  ) {
    this.outage = new OutageNotice(log, 'media writes', clock);
  }

  /** Resolves true once stored; false (counted and told) when every attempt failed. Never rejects. */
  async put(
    key: string,
    bytes: Uint8Array,
    mediaClass: MediaClass,
    attempts = PUT_ATTEMPTS,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage.put(key, bytes, mediaClass);
        this.outage.succeeded(this.where);
        return true;
      } catch (error) {
        if (attempt >= attempts) {
          this.gaveUp(key, mediaClass, error);
          return false;
        }
        await new Promise((r) => setTimeout(r, PUT_RETRY_DELAY_MS * attempt));
      }
    }
  }

  /** One attempt, for writes retried later under a Backoff. */
  tryOnce(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<boolean> {
    return this.put(key, bytes, mediaClass, 1);
  }

  private gaveUp(key: string, mediaClass: MediaClass, error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.failedWrites += 1;
    this.lastError = message;
    this.lastFailureAtMs = this.clock();
    this.outage.failed(error, { ...this.where, key });
    this.onFailure({ key, mediaClass, error: message });
  }
}

/** One buffer of the parts in order (a complete segment is its parts' bytes, concatenated). */
export function concat(parts: readonly (Uint8Array | undefined)[]): Uint8Array {
  const total = parts.reduce((sum, p) => sum + (p?.byteLength ?? 0), 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    if (p === undefined) continue;
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
