import { CmafError } from './errors.js';

/** ISO BMFF box header sizes in bytes. */
const COMPACT_HEADER_BYTES = 8;
const LARGE_HEADER_BYTES = 16;

/** A box located inside a buffer: `start` is the header, `payload` begins after it. */
export interface Box {
  readonly type: string;
  readonly start: number;
  readonly payload: number;
  readonly end: number;
}

export function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

export function u32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

export function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** A 64-bit unsigned integer as a number; refuses values beyond 2^53 rather than rounding them. */
export function u64(bytes: Uint8Array, offset: number, what: string): number {
  const high = u32(bytes, offset);
  const low = u32(bytes, offset + 4);
  const value = high * 2 ** 32 + low;
  if (!Number.isSafeInteger(value)) {
    throw new CmafError('size-overflow', `${what} ${high}*2^32+${low} does not fit in a safe integer`);
  }
  return value;
}

export interface BoxHeader {
  readonly type: string;
  /** Total size including the header; 0 in the file means "to the end", which a live pipe never uses. */
  readonly size: number;
  readonly headerBytes: number;
}

/**
 * Reads a box header at `offset` from `peek`, which returns `n` bytes or undefined if they are not there yet.
 * Returns undefined when more bytes are needed.
 */
export function readHeader(
  peek: (offset: number, n: number) => Uint8Array | undefined,
  offset: number,
): BoxHeader | undefined {
  const compact = peek(offset, COMPACT_HEADER_BYTES);
  if (compact === undefined) return undefined;
  const size32 = u32(compact, 0);
  const type = fourcc(compact, 4);
  if (size32 === 1) {
    const large = peek(offset, LARGE_HEADER_BYTES);
    if (large === undefined) return undefined;
    const size = u64(large, 8, `64-bit size of '${type}'`);
    if (size < LARGE_HEADER_BYTES)
      throw new CmafError('size-too-small', `box '${type}' has 64-bit size ${size}`);
    return { type, size, headerBytes: LARGE_HEADER_BYTES };
  }
  if (size32 === 0) {
    throw new CmafError(
      'invalid-field',
      `box '${type}' extends to the end of the stream, which a live stream cannot have`,
    );
  }
  if (size32 < COMPACT_HEADER_BYTES)
    throw new CmafError('size-too-small', `box '${type}' has size ${size32}`);
  return { type, size: size32, headerBytes: COMPACT_HEADER_BYTES };
}

/** The child boxes of `bytes[start, end)`, each checked to lie inside its parent. */
export function children(bytes: Uint8Array, start: number, end: number, parent: string): Box[] {
  const boxes: Box[] = [];
  let offset = start;
  const peek = (at: number, n: number) => (at + n <= end ? bytes.subarray(at, at + n) : undefined);
  while (offset < end) {
    const header = readHeader(peek, offset);
    if (header === undefined) {
      throw new CmafError(
        'truncated-box',
        `'${parent}' ends inside the header of a child box at byte ${offset}`,
      );
    }
    if (offset + header.size > end) {
      throw new CmafError(
        'truncated-box',
        `'${header.type}' inside '${parent}' needs ${header.size} bytes, only ${end - offset} remain`,
      );
    }
    boxes.push({
      type: header.type,
      start: offset,
      payload: offset + header.headerBytes,
      end: offset + header.size,
    });
    offset += header.size;
  }
  return boxes;
}

export function findChild(bytes: Uint8Array, parent: Box, type: string): Box | undefined {
  return children(bytes, parent.payload, parent.end, parent.type).find((b) => b.type === type);
}

export function requireChild(bytes: Uint8Array, parent: Box, type: string): Box {
  const box = findChild(bytes, parent, type);
  if (box === undefined) throw new CmafError('missing-box', `'${parent.type}' has no '${type}'`);
  return box;
}

/** Checks that a full box's fields fit inside it before they are read. */
export function need(box: Box, offset: number, n: number): void {
  if (offset + n > box.end) {
    throw new CmafError(
      'truncated-box',
      `'${box.type}' is too short for its fields (${box.end - box.start} bytes)`,
    );
  }
}
