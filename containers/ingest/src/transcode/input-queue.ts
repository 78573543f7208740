/** One chunk from the SRT socket with its arrival time (epoch ms): the arrival clock needs both. */
export interface ArrivedChunk {
  readonly chunk: Buffer;
  readonly atMs: number;
}

/**
 * The bounded buffer between the socket and ffmpeg's stdin. Writing never blocks the socket: over the bound,
 * whole chunks are dropped and counted (a partial chunk would cut an MPEG-TS packet).
 */
export class InputQueue {
  private items: ArrivedChunk[] = [];
  private queuedBytes = 0;
  private dropped = { bytes: 0, chunks: 0 };

  constructor(private readonly maxBytes: number) {}

  /** Queues the chunk, or drops and counts it when it would overflow the bound; false when dropped. */
  push(chunk: Buffer, atMs: number): boolean {
    if (this.queuedBytes + chunk.length > this.maxBytes) {
      this.dropped.bytes += chunk.length;
      this.dropped.chunks += 1;
      return false;
    }
    this.items.push({ chunk, atMs });
    this.queuedBytes += chunk.length;
    return true;
  }

  /**
   * Hands chunks to `write` in order until it reports back-pressure (returns false) or the queue is empty.
   * Returns false when it stopped on back-pressure.
   */
  drainInto(write: (chunk: Buffer) => boolean): boolean {
    while (this.items.length > 0) {
      const { chunk } = this.items.shift()!;
      this.queuedBytes -= chunk.length;
      if (!write(chunk)) return false;
    }
    return true;
  }

  /** Hands every queued chunk to `write` regardless of back-pressure (the input is ending), then empties. */
  flushInto(write: (chunk: Buffer) => unknown): void {
    for (const { chunk } of this.items) write(chunk);
    this.clear();
  }

  clear(): void {
    this.items = [];
    this.queuedBytes = 0;
  }

  /** When the oldest queued chunk arrived; undefined when nothing is queued. */
  get firstArrivalMs(): number | undefined {
    return this.items[0]?.atMs;
  }

  get chunks(): readonly ArrivedChunk[] {
    return this.items;
  }

  get length(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get droppedBytes(): number {
    return this.dropped.bytes;
  }

  get droppedChunks(): number {
    return this.dropped.chunks;
  }
}
