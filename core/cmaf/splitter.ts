import { readHeader } from './boxes.js';
import { CmafError } from './errors.js';
import { type FragmentTiming, parseMoof } from './fragment.js';
import { type InitInfo, parseMoov } from './init.js';

/** No top-level box or fragment we package is this large; a bigger size is corrupt input, not video. */
export const MAX_FRAGMENT_BYTES = 64 * 1024 * 1024;

export interface InitSegment {
  readonly kind: 'init';
  /** ftyp + moov, exactly as received. */
  readonly bytes: Uint8Array;
  readonly info: InitInfo;
}

export interface Fragment {
  readonly kind: 'fragment';
  /** [styp] moof + mdat, exactly as received. */
  readonly bytes: Uint8Array;
  readonly timing: FragmentTiming;
  /** Timescale of `timing.timing` (the video track's mdhd timescale). */
  readonly timescale: number;
  /** Base decode time of the timing track, in `timescale` ticks. */
  readonly baseDecodeTime: number;
  /** Duration of the timing track, in `timescale` ticks. */
  readonly duration: number;
  /** The timing track's first sample is a sync sample: a player can start decoding here. */
  readonly independent: boolean;
}

export type SplitterOutput = InitSegment | Fragment;

/** Boxes dropped when they stand alone between groups (index and padding boxes a live packager has no use for). */
const DROPPED_BOXES = new Set(['free', 'skip', 'mfra', 'sidx']);

/**
 * Splits a fragmented MP4 byte stream, fed in arbitrary chunks, into the init segment and moof+mdat fragments.
 * Pure: no I/O. Each emitted byte array is either a view of an input chunk or one fresh copy spanning chunks,
 * so every byte is copied at most once. Throws {@link CmafError} on malformed input; the splitter is then unusable.
 */
export class FragmentSplitter {
  private chunks: Uint8Array[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private pending = 0;
  /** Offset (from the pending start) of the next box header to read. */
  private scan = 0;
  /** Offset of the moof in the current group, if one was seen. */
  private moofAt: number | undefined;
  private init: InitInfo | undefined;
  private failed: CmafError | undefined;

  get initInfo(): InitInfo | undefined {
    return this.init;
  }

  push(chunk: Uint8Array): SplitterOutput[] {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.pending += chunk.byteLength;
    }
    const out: SplitterOutput[] = [];
    try {
      for (;;) {
        const header = readHeader((offset, n) => this.peek(offset, n), this.scan);
        if (header === undefined) break;
        if (header.size > MAX_FRAGMENT_BYTES || this.scan + header.size > MAX_FRAGMENT_BYTES) {
          throw new CmafError(
            'absurd-size',
            `box '${header.type}' of ${header.size} bytes exceeds ${MAX_FRAGMENT_BYTES}`,
          );
        }
        if (this.scan + header.size > this.pending) break;
        const boxStart = this.scan;
        this.scan += header.size;
        if (header.type === 'moov') {
          const bytes = this.take(this.scan);
          this.init = parseMoov(bytes, {
            type: 'moov',
            start: boxStart,
            payload: boxStart + header.headerBytes,
            end: bytes.byteLength,
          });
          out.push({ kind: 'init', bytes, info: this.init });
        } else if (header.type === 'moof') {
          if (this.init === undefined)
            throw new CmafError('unexpected-box', "'moof' before the init segment");
          if (this.moofAt !== undefined)
            throw new CmafError('unexpected-box', "two 'moof' boxes without an 'mdat'");
          this.moofAt = boxStart;
        } else if (header.type === 'mdat') {
          if (this.moofAt === undefined || this.init === undefined) {
            throw new CmafError('unexpected-box', "'mdat' without a preceding 'moof'");
          }
          const moofAt = this.moofAt;
          const bytes = this.take(this.scan);
          const moofHeader = readHeader(
            (o, n) => (o + n <= bytes.byteLength ? bytes.subarray(o, o + n) : undefined),
            moofAt,
          )!;
          const timing = parseMoof(
            bytes,
            {
              type: 'moof',
              start: moofAt,
              payload: moofAt + moofHeader.headerBytes,
              end: moofAt + moofHeader.size,
            },
            this.init,
          );
          out.push({
            kind: 'fragment',
            bytes,
            timing,
            timescale: this.init.timingTrack.timescale,
            baseDecodeTime: timing.timing.baseDecodeTime,
            duration: timing.timing.duration,
            independent: timing.timing.startsWithSync,
          });
        } else if (boxStart === 0 && DROPPED_BOXES.has(header.type)) {
          this.take(this.scan);
        }
      }
    } catch (error) {
      if (error instanceof CmafError) this.failed = error;
      throw error;
    }
    return out;
  }

  /** The producer ended: bytes left over are a truncated box. */
  end(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.pending > 0) {
      this.failed = new CmafError(
        'truncated-box',
        `stream ended with ${this.pending} bytes of an incomplete box`,
      );
      throw this.failed;
    }
  }

  /** `n` bytes at `offset` from the pending start, or undefined if not yet received. Copies only across chunks. */
  private peek(offset: number, n: number): Uint8Array | undefined {
    if (offset + n > this.pending) return undefined;
    let at = offset + this.head;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (at < chunk.byteLength) {
        if (at + n <= chunk.byteLength) return chunk.subarray(at, at + n);
        const out = new Uint8Array(n);
        let filled = 0;
        for (let j = i; filled < n; j++) {
          const c = this.chunks[j]!;
          const start = j === i ? at : 0;
          const count = Math.min(n - filled, c.byteLength - start);
          out.set(c.subarray(start, start + count), filled);
          filled += count;
        }
        return out;
      }
      at -= chunk.byteLength;
    }
    return undefined;
  }

  /** Removes and returns the first `n` pending bytes: a view if they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (this.head + n <= first.byteLength) {
      out = first.subarray(this.head, this.head + n);
      this.head += n;
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const count = Math.min(n - filled, c.byteLength - this.head);
        out.set(c.subarray(this.head, this.head + count), filled);
        filled += count;
        this.head += count;
        if (this.head === c.byteLength) {
          this.chunks.shift();
          this.head = 0;
        }
      }
    }
    if (this.chunks.length > 0 && this.head === this.chunks[0]!.byteLength) {
      this.chunks.shift();
      this.head = 0;
    }
    this.pending -= n;
    this.scan -= n;
    this.moofAt = undefined;
    return out;
  }
}
