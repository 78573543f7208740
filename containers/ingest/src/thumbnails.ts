import { randomBytes } from 'node:crypto';
import { THUMBNAIL_WIDTH, thumbnailKey, thumbnailPath } from '../../../core/contracts/names.js';
import { TILE_RUNG } from '../../../core/ladder.js';
import type { Logger } from '../../../core/logger.js';
import type { MediaStorage } from '../../../core/storage/index.js';

/** A JPEG larger than this is not a thumbnail (a 640 px one is ~30 KB): the stream is dropped until the next SOI. */
export const MAX_JPEG_BYTES = 2 * 1024 * 1024;

/**
 * Cuts ffmpeg's image2pipe output (JPEGs back to back, split across pipe reads at any byte) into whole JPEGs. Walks
 * the markers: header segments by their length (their bytes may hold 0xFFD9), then the entropy-coded scan, where
 * 0xFF is only ever followed by 0x00 (stuffing) or a restart marker, up to EOI (0xFFD9). Bounded by MAX_JPEG_BYTES.
 */
export class JpegStream {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onJpeg: (jpeg: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const start = this.buffer.indexOf(SOI);
      if (start < 0) {
        // Keep a trailing 0xFF: it may be the first byte of the next SOI.
        this.buffer = this.buffer.at(-1) === 0xff ? this.buffer.subarray(-1) : Buffer.alloc(0);
        return;
      }
      if (start > 0) this.buffer = this.buffer.subarray(start);
      const end = jpegEnd(this.buffer);
      if (end === undefined) {
        // Too long to be one of ours: skip this SOI and look for the next.
        if (this.buffer.length > MAX_JPEG_BYTES) this.buffer = this.buffer.subarray(2);
        else return;
        continue;
      }
      this.onJpeg(Buffer.from(this.buffer.subarray(0, end)));
      this.buffer = this.buffer.subarray(end);
    }
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = 0xd9;
const SOS = 0xda;

/** Offset just past the EOI of the JPEG at the start of `b`, or undefined when it is not all there yet. */
function jpegEnd(b: Buffer): number | undefined {
  let i = 2;
  // Header segments: FF xx, 2-byte length (including itself), payload.
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    i += 2 + length;
    if (marker === SOS) return scanEnd(b, i);
  }
  return undefined;
}

function scanEnd(b: Buffer, from: number): number | undefined {
  for (let i = from; i + 1 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const next = b[i + 1]!;
    if (next === EOI) return i + 2;
  }
  return undefined;
}

/**
 * Stores a stream's thumbnails (decision D41): the latest JPEG of each width, overwriting the one before. At most one
 * put in flight per width; a JPEG that arrives meanwhile replaces the one waiting (never a queue), so a slow store
 * drops intermediate pictures and stores the newest as soon as it can.
 */
export class ThumbnailWriter {
  private readonly inFlight = new Set<number>();
  /** width -> the newest JPEG waiting for its width's put to finish (one at most per width). */
  private readonly waiting = new Map<number, Buffer>();
  stored = 0;
  dropped = 0;
  failed = 0;
  /** Pictures stored under the capability name because the stream was private when they were taken. */
  privatePictures = 0;

  constructor(
    private readonly storage: MediaStorage,
    private readonly streamId: string,
    private readonly log?: Logger,
    /**
     * Whether the stream may have a picture at its public URL now: thumbnails are served without a playback check
     * (the public stream list names them), so a private stream's (D36) go under a capability name instead (D41,
     * amended). Asked for every picture, so a stream made private while live leaves its public URL within a second.
     */
    private readonly isPublic: () => boolean = () => true,
    /** This writer's capability: 128 random bits, new with each pipeline, so a leaked URL dies with it. */
    private readonly capability: string = randomBytes(16).toString('base64url'),
  ) {}

  write(width: number, jpeg: Buffer): void {
    if (!this.isPublic()) this.privatePictures += 1;
    if (this.inFlight.has(width)) {
      if (this.waiting.has(width)) this.dropped += 1;
      this.waiting.set(width, jpeg);
      return;
    }
    this.inFlight.add(width);
    void this.put(width, jpeg);
  }

  /** Whether the stream's pictures are being stored, so its status may name their URL. */
  showing(): boolean {
    return true;
  }

  /** The 320 px picture's URL path the status names: the public one, or the capability one while private. */
  path(width = THUMBNAIL_WIDTH): string {
    return thumbnailPath(this.streamId, width, this.isPublic() ? undefined : this.capability);
  }

  /** Resolves once nothing is in flight (tests, drain). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private async put(width: number, jpeg: Buffer): Promise<void> {
    let next: Buffer | undefined = jpeg;
    while (next !== undefined) {
      try {
        // The name is chosen when the picture is stored: a stream made private meanwhile gets the capability one.
        const key = thumbnailKey(this.streamId, width, this.isPublic() ? undefined : this.capability);
        await this.storage.put(key, next, 'thumbnail');
        this.stored += 1;
      } catch (error) {
        // A thumbnail is replaced within a second: a failed put is counted and logged, never retried.
        this.failed += 1;
        this.log?.warn('thumbnail put failed', { streamId: this.streamId, width, error: String(error) });
      }
      next = this.waiting.get(width);
      this.waiting.delete(width);
    }
    this.inFlight.delete(width);
  }
}

/** The widths of a stream's thumbnails: the status's 320 px one and the tile rung's (decision D41). */
export const THUMBNAIL_WIDTHS: readonly number[] = [THUMBNAIL_WIDTH, TILE_RUNG.width ?? THUMBNAIL_WIDTH * 2];

/** One run's thumbnail outputs for the supervisor: a fresh JPEG splitter per descriptor (a run starts clean). */
export function thumbnailOutputs(
  sink: ThumbnailSink | undefined,
  outputs: readonly { readonly width: number; readonly fd: number }[],
): { fd: number; write: (data: Buffer) => void }[] {
  if (sink === undefined) return [];
  return outputs.map(({ width, fd }) => {
    const jpegs = new JpegStream((jpeg) => sink.write(width, jpeg));
    return { fd, write: (data: Buffer) => jpegs.push(data) };
  });
}

/** The pipeline's view of its stream's writer. */
export type ThumbnailSink = Pick<ThumbnailWriter, 'write'> &
  Partial<Pick<ThumbnailWriter, 'showing' | 'path'>>;
/** One writer per stream (service.ts makes them from the media storage). */
export type ThumbnailSinkFactory = (streamId: string, isPublic?: () => boolean) => ThumbnailSink;

export function thumbnailSinks(storage: MediaStorage, log?: Logger): ThumbnailSinkFactory {
  return (streamId, isPublic) => new ThumbnailWriter(storage, streamId, log, isPublic);
}
