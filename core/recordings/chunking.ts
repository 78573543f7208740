import type { Fragment, InitSegment } from '../cmaf/index.js';

/**
 * Recording chunks (decision D40): consecutive CMAF fragments of one rendition concatenated into objects of 1 MB or
 * more, so 30 days of recordings are not millions of 0.5 s objects (each PUT costs as much as storing 1 MB for a
 * month, and small objects pay Standard-IA's 128 KB minimum).
 */

/**
 * The size every chunk should reach: 8 Mbit (1 MB) plus 6%, for the small objects beside the chunks (an init
 * segment and a playlist per rendition, the last chunk's remainder) that pull an hour's average below 1 MB at
 * exactly 8 Mbit (test/core/recordings.test.ts: 0.99 MB for the tile rung).
 */
export const TARGET_CHUNK_BITS = 8_500_000;
/** No chunk shorter: seeking in a VOD playlist loads a whole chunk, so short ones are not worth their requests. */
export const MIN_CHUNK_MS = 6_000;
/** No chunk longer (nor used when the bitrate is unknown, as for passthrough): bounds the recorder's memory. */
export const MAX_CHUNK_MS = 60_000;
/** A chunk is closed at any fragment past this size, keyframe or not: the memory bound whatever the bitrate. */
export const MAX_CHUNK_BYTES = 32 * 1024 * 1024;

/** A rendition's chunk duration from its bitrate (bits per second): max(6 s, 8.5 Mbit / bitrate), at most 60 s. */
export function chunkTargetMs(bitrateBps: number): number {
  if (!(bitrateBps > 0)) return MAX_CHUNK_MS;
  return Math.min(MAX_CHUNK_MS, Math.max(MIN_CHUNK_MS, Math.ceil((TARGET_CHUNK_BITS / bitrateBps) * 1000)));
}

/**
 * The average object size of a recording of `durationS` at `bitrateBps` (chunks of chunkTargetMs, plus one init
 * segment and one media playlist of about `smallObjectBytes` each): what the >= 1 MB rule is checked against.
 */
export function averageObjectBytes(bitrateBps: number, durationS: number, smallObjectBytes = 1_000): number {
  const chunks = Math.ceil((durationS * 1000) / chunkTargetMs(bitrateBps));
  const bytes = (bitrateBps * durationS) / 8 + 2 * smallObjectBytes;
  return bytes / (chunks + 2);
}

export interface RecordedInit {
  readonly kind: 'init';
  readonly version: number;
  readonly bytes: Uint8Array;
}

export interface RecordedChunk {
  readonly kind: 'chunk';
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly durationS: number;
  /** The init segment (version) its fragments decode with. */
  readonly initVersion: number;
  /** The first chunk after a producer restart: EXT-X-DISCONTINUITY before it. */
  readonly discontinuity: boolean;
}

export type RecordedObject = RecordedInit | RecordedChunk;

/**
 * Pure: splitter output in, objects to store out. Holds at most one chunk's fragments (MAX_CHUNK_BYTES). A chunk
 * closes at the first keyframe fragment past the target, so every chunk but one cut by the byte bound starts with
 * a keyframe; an init segment or a restart closes it too.
 */
export class RecordingChunker {
  private version = 0;
  private hasInit = false;
  private index = 0;
  private fragments: Uint8Array[] = [];
  private bytes = 0;
  private ticks = 0;
  private timescale = 1;
  private discontinuity = false;

  constructor(
    private readonly targetMs: number,
    private readonly maxBytes = MAX_CHUNK_BYTES,
  ) {}

  push(out: InitSegment | Fragment): RecordedObject[] {
    const objects: RecordedObject[] = [];
    if (out.kind === 'init') {
      this.flush(objects);
      this.version += 1;
      this.hasInit = true;
      objects.push({ kind: 'init', version: this.version, bytes: out.bytes });
      return objects;
    }
    // Fragments before the first init (a producer restarting mid-stream) cannot be decoded: never recorded.
    if (!this.hasInit) return objects;
    const pastTarget = out.independent && (this.ticks / this.timescale) * 1000 >= this.targetMs;
    if (this.fragments.length > 0 && (pastTarget || this.bytes + out.bytes.byteLength > this.maxBytes)) {
      this.flush(objects);
    }
    this.timescale = out.timescale;
    this.fragments.push(out.bytes);
    this.bytes += out.bytes.byteLength;
    this.ticks += out.duration;
    return objects;
  }

  /** The producer restarts: what it had is one chunk, what follows waits for its init and is a discontinuity. */
  restart(): RecordedObject[] {
    const objects: RecordedObject[] = [];
    this.flush(objects);
    this.hasInit = false;
    if (this.index > 0) this.discontinuity = true;
    return objects;
  }

  end(): RecordedObject[] {
    const objects: RecordedObject[] = [];
    this.flush(objects);
    return objects;
  }

  private flush(objects: RecordedObject[]): void {
    if (this.fragments.length === 0) return;
    const bytes = new Uint8Array(this.bytes);
    let offset = 0;
    for (const f of this.fragments) {
      bytes.set(f, offset);
      offset += f.byteLength;
    }
    objects.push({
      kind: 'chunk',
      index: this.index,
      bytes,
      durationS: this.ticks / this.timescale,
      initVersion: this.version,
      discontinuity: this.discontinuity,
    });
    this.index += 1;
    this.discontinuity = false;
    this.fragments = [];
    this.bytes = 0;
    this.ticks = 0;
  }
}
