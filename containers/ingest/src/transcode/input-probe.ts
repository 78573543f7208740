import type { ArrivedChunk } from './input-queue.js';
import { probeTransportStream, type VideoCodec } from './ts-probe.js';

export type ProbeOutcome =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'refused'; readonly reason: string }
  | {
      readonly kind: 'found';
      readonly video: VideoCodec;
      readonly audio: 'aac' | null;
      /** The probed bytes, cut back into the chunks they arrived in, each with its own arrival time. */
      readonly chunks: readonly ArrivedChunk[];
    };

/**
 * Holds a new connection's first bytes until the MPEG-TS program tables name its codecs. Every outcome but
 * need-more resets it, so the bytes go either to the queue (found) or nowhere (refused), never twice.
 */
export class InputProbe {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Where each chunk starts in the held bytes, and when it arrived. */
  private arrivals: { offset: number; atMs: number }[] = [];

  push(chunk: Buffer, atMs: number): ProbeOutcome {
    this.arrivals.push({ offset: this.heldBytes, atMs });
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const bytes = Buffer.concat(this.held);
    this.held = [bytes];
    const result = probeTransportStream(bytes);
    if (result.kind === 'need-more') return result;
    const arrivals = this.arrivals;
    this.reset();
    if (result.kind === 'not-ts' || result.kind === 'unsupported') {
      return { kind: 'refused', reason: result.reason };
    }
    const chunks = arrivals.map(({ offset, atMs: at }, i) => ({
      chunk: bytes.subarray(offset, arrivals[i + 1]?.offset ?? bytes.length),
      atMs: at,
    }));
    return { kind: 'found', video: result.video, audio: result.audio, chunks };
  }

  /** Forgets what is held (a disconnect, a reconnect or a failure starts the next probe from nothing). */
  reset(): void {
    this.held = [];
    this.heldBytes = 0;
    this.arrivals = [];
  }

  get bufferedBytes(): number {
    return this.heldBytes;
  }
}
