/**
 * Puts RTP packets back in sequence order, bounded in packets and in time: a gap is waited for at most `maxDelayMs`
 * after the first packet held behind it, and never with more than `maxPackets` held; then the gap is given up (the
 * packets are lost, the demuxer sees a continuity-counter jump) and what follows is released. Pure: time comes in.
 */

export interface ReorderOptions {
  readonly maxPackets: number;
  readonly maxDelayMs: number;
}

export interface ReorderCounters {
  /** Packets that arrived after their place was released (given up as lost): dropped. */
  readonly late: number;
  /** Gaps given up (one per skip, whatever its size). */
  readonly skips: number;
  readonly held: number;
}

export class ReorderBuffer<T> {
  private next: number | null = null;
  private readonly held = new Map<number, { item: T; atMs: number }>();
  private late = 0;
  private skips = 0;

  constructor(private readonly options: ReorderOptions) {}

  /** A packet with its extended sequence number; returns what is now in order. */
  push(extended: number, item: T, nowMs: number): T[] {
    const out: T[] = [];
    if (this.next === null) this.next = extended;
    if (extended < this.next || this.held.has(extended)) {
      this.late += 1;
      return this.release(nowMs, out);
    }
    this.held.set(extended, { item, atMs: nowMs });
    return this.release(nowMs, out);
  }

  /** What is due by time alone (call on a timer: a gap at the end of a burst must not wait for the next packet). */
  flush(nowMs: number): T[] {
    return this.release(nowMs, []);
  }

  /** Everything held, in order, gaps skipped (the stream ends). */
  drain(): T[] {
    const keys = [...this.held.keys()].sort((a, b) => a - b);
    const out = keys.map((k) => this.held.get(k)!.item);
    this.held.clear();
    if (keys.length > 0) this.next = keys.at(-1)! + 1;
    return out;
  }

  counters(): ReorderCounters {
    return { late: this.late, skips: this.skips, held: this.held.size };
  }

  private release(nowMs: number, out: T[]): T[] {
    for (;;) {
      this.takeRun(out);
      if (this.held.size === 0) return out;
      const oldest = Math.min(...[...this.held.values()].map((h) => h.atMs));
      if (this.held.size <= this.options.maxPackets && nowMs - oldest < this.options.maxDelayMs) return out;
      // Give the gap up: continue from the lowest packet held.
      this.next = Math.min(...this.held.keys());
      this.skips += 1;
    }
  }

  private takeRun(out: T[]): void {
    if (this.next === null) return;
    for (let h = this.held.get(this.next); h !== undefined; h = this.held.get(this.next)) {
      this.held.delete(this.next);
      out.push(h.item);
      this.next += 1;
    }
  }
}
