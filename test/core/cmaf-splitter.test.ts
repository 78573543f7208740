import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmafError, type Fragment, FragmentSplitter, type SplitterOutput } from '../../core/cmaf/index.js';
import { encodeTestSource, FFMPEG_QUIET, ffmpegStdout, testPatternInputs } from '../support/media.js';

let source: Uint8Array;
beforeAll(async () => {
  source = await encodeTestSource(2);
});

function box(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.byteLength);
  new DataView(out.buffer).setUint32(0, out.byteLength);
  out.set(new TextEncoder().encode(type), 4);
  out.set(payload, 8);
  return out;
}

function largeBox(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1);
  out.set(new TextEncoder().encode(type), 4);
  view.setUint32(8, 0);
  view.setUint32(12, out.byteLength);
  out.set(payload, 16);
  return out;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.byteLength]) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  return chunks;
}

function runAll(chunks: Uint8Array[]): SplitterOutput[] {
  const splitter = new FragmentSplitter();
  const out = chunks.flatMap((c) => splitter.push(c));
  splitter.end();
  return out;
}

describe('fMP4 splitter on ffmpeg output', () => {
  it('emits the init segment with codec strings from avcC and esds, size from tkhd, timescale from mdhd', () => {
    const [init] = runAll([source]);
    expect(init?.kind).toBe('init');
    if (init?.kind !== 'init') return;
    expect(init.info.codecs).toEqual([expect.stringMatching(/^avc1\.64[0-9a-f]{4}$/), 'mp4a.40.2']);
    expect(init.info.timingTrack).toMatchObject({ kind: 'video', width: 320, height: 240 });
    expect(init.info.timingTrack.timescale).toBeGreaterThan(0);
    expect(new TextDecoder().decode(init.bytes.subarray(4, 8))).toBe('ftyp');
  });

  it('emits contiguous 100 ms fragments, an independent one every 0.5 s', () => {
    const fragments = runAll([source]).filter((o): o is Fragment => o.kind === 'fragment');
    expect(fragments.length).toBe(20);
    for (let i = 1; i < fragments.length; i++) {
      const prev = fragments[i - 1]!;
      expect(fragments[i]!.baseDecodeTime).toBe(prev.baseDecodeTime + prev.duration);
    }
    expect(fragments.map((f) => f.independent)).toEqual(Array.from({ length: 20 }, (_, i) => i % 5 === 0));
    for (const f of fragments) expect(f.duration / f.timescale).toBeCloseTo(0.1, 5);
  });

  it('yields the same output for any split of the input into chunks', () => {
    const whole = runAll([source]).map((o) => ({
      kind: o.kind,
      bytes: Buffer.from(o.bytes).toString('base64'),
    }));
    fc.assert(
      fc.property(fc.array(fc.nat(source.byteLength), { maxLength: 60 }), (cuts) => {
        const split = runAll(splitAt(source, cuts)).map((o) => ({
          kind: o.kind,
          bytes: Buffer.from(o.bytes).toString('base64'),
        }));
        expect(split).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });

  it('returns views of the input when a fragment lies in one chunk (no copy)', () => {
    const out = runAll([source]);
    for (const o of out) expect(o.bytes.buffer).toBe(source.buffer);
  });

  it('reads 64-bit box sizes', () => {
    const [init, ...rest] = runAll([source]);
    const fragment = rest[0] as Fragment;
    // Re-wrap the first fragment's mdat with a 64-bit size header.
    const moofSize = new DataView(fragment.bytes.buffer, fragment.bytes.byteOffset).getUint32(0);
    const mdatPayload = fragment.bytes.subarray(moofSize + 8);
    const rewritten = largeBox('mdat', mdatPayload);
    const stream = new Uint8Array(init!.bytes.byteLength + moofSize + rewritten.byteLength);
    stream.set(init!.bytes, 0);
    stream.set(fragment.bytes.subarray(0, moofSize), init!.bytes.byteLength);
    stream.set(rewritten, init!.bytes.byteLength + moofSize);
    const out = runAll([stream]);
    expect(out[1]).toMatchObject({ kind: 'fragment', baseDecodeTime: 0, independent: true });
    expect(out[1]!.bytes.byteLength).toBe(moofSize + rewritten.byteLength);
  });
});

describe('fMP4 splitter on HEVC', () => {
  it('derives hvc1.{profile}.{compat}.{tier}{level}.{constraints} from hvcC', async () => {
    const hevc = await ffmpegStdout([
      ...FFMPEG_QUIET,
      ...testPatternInputs('320x240', { audio: false }),
      '-t',
      '0.5',
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-tag:v',
      'hvc1',
      '-x265-params',
      'log-level=error',
      '-f',
      'mp4',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof+cmaf',
      'pipe:1',
    ]);
    const [init] = runAll([hevc]);
    // Main profile (1), compatibility flags 0x60000000 reversed = 6, Main tier, level 2 (60 = 2.0 x 30).
    expect(init?.kind === 'init' && init.info.codecs).toEqual([
      expect.stringMatching(/^hvc1\.1\.6\.L60(\.[0-9A-F]{1,2})*$/),
    ]);
  });
});

describe('fMP4 splitter refuses malformed input with a typed error', () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof CmafError) return error.code;
      throw error;
    }
    return undefined;
  };

  it('a 64-bit size beyond 2^53 is size-overflow', () => {
    const header = new Uint8Array(16);
    const view = new DataView(header.buffer);
    view.setUint32(0, 1);
    header.set(new TextEncoder().encode('mdat'), 4);
    view.setUint32(8, 0xffffffff);
    view.setUint32(12, 0xffffffff);
    expect(codeOf(() => new FragmentSplitter().push(header))).toBe('size-overflow');
  });

  it('a size smaller than its header is size-too-small', () => {
    const header = new Uint8Array([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x66]);
    expect(codeOf(() => new FragmentSplitter().push(header))).toBe('size-too-small');
  });

  it('an absurd size is refused before buffering it', () => {
    const header = new Uint8Array([0xff, 0xff, 0xff, 0xf0, 0x6d, 0x64, 0x61, 0x74]);
    expect(codeOf(() => new FragmentSplitter().push(header))).toBe('absurd-size');
  });

  it('a child box overrunning its parent is truncated-box', () => {
    const bad = box('moov', new Uint8Array([0, 0, 0, 100, 0x74, 0x72, 0x61, 0x6b]));
    expect(codeOf(() => new FragmentSplitter().push(bad))).toBe('truncated-box');
  });

  it('a stream ending inside a box is truncated-box', () => {
    const splitter = new FragmentSplitter();
    splitter.push(source.subarray(0, source.byteLength - 10));
    expect(codeOf(() => splitter.end())).toBe('truncated-box');
  });

  it('a fragment before the init segment is unexpected-box', () => {
    const [, fragment] = runAll([source]);
    expect(codeOf(() => new FragmentSplitter().push(fragment!.bytes))).toBe('unexpected-box');
  });

  it('a moov without tracks is missing-box', () => {
    expect(codeOf(() => new FragmentSplitter().push(box('moov', new Uint8Array())))).toBe('missing-box');
  });

  it('stays failed after an error', () => {
    const splitter = new FragmentSplitter();
    expect(codeOf(() => splitter.push(box('moov', new Uint8Array())))).toBe('missing-box');
    expect(codeOf(() => splitter.push(source))).toBe('missing-box');
  });
});
