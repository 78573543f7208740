/** Bounds of one rendition's write queue (decision D21). */
export interface WriteQueueBounds {
  /** Fragment bytes queued and being written. */
  readonly maxBytes: number;
  /** Fragments queued and being written. */
  readonly maxEntries: number;
}

/**
 * 100 fragments is 10 s of 100 ms parts, the default live window: media older than that is no use to a live viewer
 * once storage catches up. 8 MiB holds those 10 s for rungs up to about 6 Mbit/s (a 20 Mbit/s passthrough keeps
 * about 3 s); with every rung of 16 streams full it is at most a few hundred MiB, inside the ingest memory limit.
 */
export const DEFAULT_QUEUE_BOUNDS: WriteQueueBounds = { maxBytes: 8 * 1024 * 1024, maxEntries: 100 };

/**
 * A rendition's packaging steps, run one at a time in arrival order. Media steps are bounded in count and bytes:
 * over a bound offer() refuses (the caller counts the fragment as lost and tells the segmenter, so what is dropped
 * is never listed). Other steps (init segments, restarts, the end, loss markers) are few and always queued.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private bytes = 0;
  private entries = 0;

  constructor(
    private readonly bounds: WriteQueueBounds,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues a step that is never dropped. */
  run(step: () => Promise<void>): void {
    this.tail = this.tail.then(step).catch(this.onError);
  }

  /** Would a media step of `bytes` be accepted now? (A lone step is, whatever its size: nothing else waits.) */
  hasRoom(bytes: number): boolean {
    if (this.entries === 0) return true;
    return this.entries + 1 <= this.bounds.maxEntries && this.bytes + bytes <= this.bounds.maxBytes;
  }

  /** Queues a media step of `bytes` if there is room; false when refused. */
  offer(bytes: number, step: () => Promise<void>): boolean {
    if (!this.hasRoom(bytes)) return false;
    this.entries += 1;
    this.bytes += bytes;
    this.run(async () => {
      try {
        await step();
      } finally {
        this.entries -= 1;
        this.bytes -= bytes;
      }
    });
    return true;
  }

  /** Media steps queued or running, and their bytes. */
  get depth(): { entries: number; bytes: number } {
    return { entries: this.entries, bytes: this.bytes };
  }

  /** Resolves once every step queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
