/**
 * Reception statistics of one RTP source as RFC 3550 defines them: the sequence number bookkeeping of Appendix A.1
 * (cycles, resynchronisation after a large jump), cumulative and fraction lost (§6.4.1, A.3) and the interarrival
 * jitter (§6.4.1, A.8). Pure: arrival times come in as arguments.
 */

const SEQ_MOD = 65536;
/** A.1: a forward jump up to this many packets is loss, not a restarted sender. */
const MAX_DROPOUT = 3000;
/** A.1: a packet up to this many behind the highest is late (reordered), not a restarted sender. */
const MAX_MISORDER = 100;

export interface RtpReceptionSnapshot {
  readonly received: number;
  readonly expected: number;
  /** Expected minus received since the first packet (negative with duplicates, as RFC 3550 allows). */
  readonly cumulativeLost: number;
  /** Lost over expected in the last report interval, 0..1 (the RR's 8-bit fraction / 256). */
  readonly fractionLost: number;
  /** 32 bits: cycles of the sequence number in the high 16 bits. */
  readonly extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units (A.8) and in milliseconds. */
  readonly jitter: number;
  readonly jitterMs: number;
  /** Packets that arrived after a higher sequence number (reordered or duplicated on the way). */
  readonly reordered: number;
}

export class RtpReceptionStats {
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = SEQ_MOD + 1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private lastFraction = 0;
  private transit: number | null = null;
  private jitter = 0;
  private reordered = 0;
  private started = false;

  constructor(private readonly clockHz: number) {}

  /**
   * One packet in arrival order. Returns its extended sequence number (for the reorder buffer), or null when the
   * packet is a jump far out of sequence (A.1: held as suspect until the next packet confirms a restarted sender).
   */
  packet(seq: number, timestamp: number, arrivalMs: number): number | null {
    let extended: number;
    if (!this.started) {
      this.init(seq);
      this.started = true;
      extended = seq;
    } else {
      const delta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
      if (delta === 0) {
        this.reordered += 1;
        extended = this.cycles + this.maxSeq;
      } else if (delta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += SEQ_MOD;
        this.maxSeq = seq;
        extended = this.cycles + seq;
      } else if (delta <= SEQ_MOD - MAX_MISORDER) {
        if (seq !== this.badSeq) {
          this.badSeq = (seq + 1) % SEQ_MOD;
          return null;
        }
        // Two sequential packets after a jump: the sender restarted; statistics start over.
        this.init(seq);
        extended = seq;
      } else {
        this.reordered += 1;
        extended = this.cycles + this.maxSeq - ((this.maxSeq - seq + SEQ_MOD) % SEQ_MOD);
      }
    }
    this.received += 1;
    this.updateJitter(timestamp, arrivalMs);
    return extended;
  }

  /** The figures now; `closeInterval` also starts the next fraction-lost interval (what an RR does). */
  snapshot(closeInterval = false): RtpReceptionSnapshot {
    const extendedHighestSeq = this.cycles + this.maxSeq;
    const expected = this.started ? extendedHighestSeq - this.baseSeq + 1 : 0;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : lostInterval / expectedInterval;
    if (closeInterval) {
      this.expectedPrior = expected;
      this.receivedPrior = this.received;
      this.lastFraction = fraction;
    }
    return {
      received: this.received,
      expected,
      cumulativeLost: expected - this.received,
      fractionLost: closeInterval ? fraction : this.lastFraction,
      extendedHighestSeq: extendedHighestSeq >>> 0,
      jitter: this.jitter,
      jitterMs: (1000 * this.jitter) / this.clockHz,
      reordered: this.reordered,
    };
  }

  private init(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
  }

  /** A.8: J += (|D| - J) / 16, D the difference of relative transit times, in timestamp units. */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    const arrival = (arrivalMs * this.clockHz) / 1000;
    const transit = arrival - timestamp;
    if (this.transit !== null) {
      // Timestamps wrap at 2^32: the difference is taken modulo it, as the C code's unsigned arithmetic does.
      let d = Math.abs(transit - this.transit);
      if (d > 2 ** 31) d = Math.abs(d - 2 ** 32);
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }
}
