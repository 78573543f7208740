import { type Box, children, fourcc, need, requireChild, u32 } from './boxes.js';
import { CmafError } from './errors.js';

export type TrackKind = 'video' | 'audio' | 'other';

export interface TrackInfo {
  readonly trackId: number;
  readonly kind: TrackKind;
  /** Ticks per second of this track's decode times (from mdhd). */
  readonly timescale: number;
  /** RFC 6381 codec string: avc1.PPCCLL, hvc1.*, mp4a.40.2. Undefined for sample entries we do not know. */
  readonly codec?: string;
  readonly width?: number;
  readonly height?: number;
  /** Defaults from trex, used when a fragment's tfhd/trun do not override them. */
  readonly defaultSampleDuration: number;
  readonly defaultSampleFlags: number;
}

export interface InitInfo {
  readonly tracks: readonly TrackInfo[];
  /** The track that times parts and segments: the first video track, else the first track. */
  readonly timingTrack: TrackInfo;
  /** Codec strings of all tracks, video first, for the CODECS attribute. */
  readonly codecs: readonly string[];
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** avc1.PPCCLL from the first three bytes after configurationVersion in avcC (profile, constraints, level). */
function avcCodec(bytes: Uint8Array, avcC: Box, entryType: string): string {
  need(avcC, avcC.payload, 4);
  const profile = bytes[avcC.payload + 1]!;
  const constraints = bytes[avcC.payload + 2]!;
  const level = bytes[avcC.payload + 3]!;
  return `${entryType}.${hex2(profile)}${hex2(constraints)}${hex2(level)}`;
}

/** hvc1.{space}{profile}.{compat reversed}.{tier}{level}.{constraints} per ISO/IEC 14496-15 Annex E. */
function hevcCodec(bytes: Uint8Array, hvcC: Box, entryType: string): string {
  const p = hvcC.payload;
  need(hvcC, p, 13);
  const b1 = bytes[p + 1]!;
  const space = ['', 'A', 'B', 'C'][b1 >> 6]!;
  const tier = (b1 & 0x20) !== 0 ? 'H' : 'L';
  const profile = b1 & 0x1f;
  let compat = u32(bytes, p + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
  const level = bytes[p + 12]!;
  const constraints: string[] = [];
  for (let i = 0; i < 6; i++) constraints.push(bytes[p + 6 + i]!.toString(16).toUpperCase());
  while (constraints.length > 0 && constraints[constraints.length - 1] === '0') constraints.pop();
  const tail = constraints.length > 0 ? `.${constraints.join('.')}` : '';
  return `${entryType}.${space}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier}${level}${tail}`;
}

/** mp4a.40.{audioObjectType} from the DecoderConfigDescriptor and AudioSpecificConfig in esds. */
function aacCodec(bytes: Uint8Array, esds: Box): string {
  let offset = esds.payload + 4; // version + flags
  const readDescriptor = (): { tag: number; start: number; end: number } => {
    need(esds, offset, 2);
    const tag = bytes[offset++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      need(esds, offset, 1);
      const b = bytes[offset++]!;
      size = (size << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (offset + size > esds.end)
      throw new CmafError('truncated-box', `esds descriptor ${tag} overruns the box`);
    return { tag, start: offset, end: offset + size };
  };
  const es = readDescriptor();
  if (es.tag !== 0x03)
    throw new CmafError('invalid-field', `esds starts with descriptor ${es.tag}, not ES_Descriptor`);
  const esFlags = bytes[es.start + 2]!;
  offset = es.start + 3;
  if (esFlags & 0x80) offset += 2;
  if (esFlags & 0x40) offset += 1 + bytes[offset]!;
  if (esFlags & 0x20) offset += 2;
  const dc = readDescriptor();
  if (dc.tag !== 0x04)
    throw new CmafError('invalid-field', `esds has descriptor ${dc.tag}, not DecoderConfig`);
  const objectType = bytes[dc.start]!;
  offset = dc.start + 13;
  if (offset >= dc.end) return `mp4a.${hex2(objectType)}`;
  const dsi = readDescriptor();
  if (dsi.tag !== 0x05 || dsi.end <= dsi.start) return `mp4a.${hex2(objectType)}`;
  let audioObjectType = bytes[dsi.start]! >> 3;
  if (audioObjectType === 31 && dsi.end - dsi.start >= 2) {
    audioObjectType = 32 + (((bytes[dsi.start]! & 0x07) << 3) | (bytes[dsi.start + 1]! >> 5));
  }
  return `mp4a.${objectType.toString(16)}.${audioObjectType}`;
}

function sampleEntry(bytes: Uint8Array, stsd: Box): { codec?: string } {
  need(stsd, stsd.payload, 8);
  const entries = children(bytes, stsd.payload + 8, stsd.end, 'stsd');
  const entry = entries[0];
  if (entry === undefined) throw new CmafError('missing-box', "'stsd' has no sample entry");
  const type = entry.type;
  if (type === 'avc1' || type === 'avc3') {
    // VisualSampleEntry: 8 (SampleEntry) + 70 bytes of fields before its child boxes.
    const avcC = children(bytes, entry.payload + 78, entry.end, type).find((b) => b.type === 'avcC');
    if (avcC === undefined) throw new CmafError('missing-box', `'${type}' has no 'avcC'`);
    return { codec: avcCodec(bytes, avcC, type) };
  }
  if (type === 'hvc1' || type === 'hev1') {
    const hvcC = children(bytes, entry.payload + 78, entry.end, type).find((b) => b.type === 'hvcC');
    if (hvcC === undefined) throw new CmafError('missing-box', `'${type}' has no 'hvcC'`);
    return { codec: hevcCodec(bytes, hvcC, type) };
  }
  if (type === 'mp4a') {
    // AudioSampleEntry: 8 (SampleEntry) + 20 bytes of fields.
    const esds = children(bytes, entry.payload + 28, entry.end, type).find((b) => b.type === 'esds');
    if (esds === undefined) return { codec: 'mp4a.40.2' };
    return { codec: aacCodec(bytes, esds) };
  }
  if (type === 'Opus') return { codec: 'opus' };
  return {};
}

function parseTrak(
  bytes: Uint8Array,
  trak: Box,
  trex: Map<number, { duration: number; flags: number }>,
): TrackInfo {
  const tkhd = requireChild(bytes, trak, 'tkhd');
  const version = bytes[tkhd.payload]!;
  const idOffset = tkhd.payload + (version === 1 ? 20 : 12);
  need(tkhd, idOffset, 4);
  const trackId = u32(bytes, idOffset);
  // width and height are the last 8 bytes of tkhd, 16.16 fixed point.
  need(tkhd, tkhd.end - 8, 8);
  const width = u32(bytes, tkhd.end - 8) >>> 16;
  const height = u32(bytes, tkhd.end - 4) >>> 16;
  const mdia = requireChild(bytes, trak, 'mdia');
  const mdhd = requireChild(bytes, mdia, 'mdhd');
  const mdhdVersion = bytes[mdhd.payload]!;
  const timescaleOffset = mdhd.payload + (mdhdVersion === 1 ? 20 : 12);
  need(mdhd, timescaleOffset, 4);
  const timescale = u32(bytes, timescaleOffset);
  if (timescale === 0) throw new CmafError('invalid-field', `track ${trackId} has timescale 0`);
  const hdlr = requireChild(bytes, mdia, 'hdlr');
  need(hdlr, hdlr.payload + 8, 4);
  const handler = fourcc(bytes, hdlr.payload + 8);
  const kind: TrackKind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other';
  const stbl = requireChild(bytes, requireChild(bytes, mdia, 'minf'), 'stbl');
  const { codec } = sampleEntry(bytes, requireChild(bytes, stbl, 'stsd'));
  const defaults = trex.get(trackId) ?? { duration: 0, flags: 0 };
  return {
    trackId,
    kind,
    timescale,
    codec,
    ...(kind === 'video' && width > 0 && height > 0 ? { width, height } : {}),
    defaultSampleDuration: defaults.duration,
    defaultSampleFlags: defaults.flags,
  };
}

/** Reads track layout and codec strings from a moov box (the init segment is ftyp+moov). */
export function parseMoov(bytes: Uint8Array, moov: Box): InitInfo {
  const boxes = children(bytes, moov.payload, moov.end, 'moov');
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = boxes.find((b) => b.type === 'mvex');
  if (mvex !== undefined) {
    for (const box of children(bytes, mvex.payload, mvex.end, 'mvex')) {
      if (box.type !== 'trex') continue;
      need(box, box.payload, 24);
      trex.set(u32(bytes, box.payload + 4), {
        duration: u32(bytes, box.payload + 12),
        flags: u32(bytes, box.payload + 20),
      });
    }
  }
  const tracks = boxes.filter((b) => b.type === 'trak').map((trak) => parseTrak(bytes, trak, trex));
  const first = tracks[0];
  if (first === undefined) throw new CmafError('missing-box', "'moov' has no 'trak'");
  const timingTrack = tracks.find((t) => t.kind === 'video') ?? first;
  const ordered = [...tracks.filter((t) => t.kind === 'video'), ...tracks.filter((t) => t.kind !== 'video')];
  const codecs = ordered.flatMap((t) => (t.codec === undefined ? [] : [t.codec]));
  return { tracks, timingTrack, codecs };
}
