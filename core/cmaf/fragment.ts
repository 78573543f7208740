import { type Box, children, need, u32, u64 } from './boxes.js';
import { CmafError } from './errors.js';
import type { InitInfo, TrackInfo } from './init.js';

/** tfhd flags (ISO/IEC 14496-12 8.8.7). */
const TFHD_BASE_DATA_OFFSET = 0x1;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x2;
const TFHD_DEFAULT_DURATION = 0x8;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
/** trun flags (8.8.8). */
const TRUN_DATA_OFFSET = 0x1;
const TRUN_FIRST_SAMPLE_FLAGS = 0x4;
const TRUN_SAMPLE_DURATION = 0x100;
const TRUN_SAMPLE_SIZE = 0x200;
const TRUN_SAMPLE_FLAGS = 0x400;
const TRUN_COMPOSITION_OFFSET = 0x800;
/** sample_is_non_sync_sample in the sample flags word. */
const SAMPLE_NON_SYNC = 0x10000;
/** sample_depends_on = 2: the sample does not depend on others (an I-frame). */
const SAMPLE_DEPENDS_ON_MASK = 0x3000000;
const SAMPLE_DEPENDS_ON_NONE = 0x2000000;

export interface TrackRun {
  readonly trackId: number;
  /** From tfdt, in the track's timescale. */
  readonly baseDecodeTime: number;
  /** Sum of sample durations, in the track's timescale. */
  readonly duration: number;
  readonly sampleCount: number;
  readonly startsWithSync: boolean;
}

export interface FragmentTiming {
  /** One run per traf; the timing track's run is also in `timing`. */
  readonly runs: readonly TrackRun[];
  readonly timing: TrackRun;
}

function isSync(flags: number): boolean {
  return (flags & SAMPLE_NON_SYNC) === 0 || (flags & SAMPLE_DEPENDS_ON_MASK) === SAMPLE_DEPENDS_ON_NONE;
}

function parseTraf(bytes: Uint8Array, traf: Box, tracks: ReadonlyMap<number, TrackInfo>): TrackRun {
  const boxes = children(bytes, traf.payload, traf.end, 'traf');
  const tfhd = boxes.find((b) => b.type === 'tfhd');
  if (tfhd === undefined) throw new CmafError('missing-box', "'traf' has no 'tfhd'");
  need(tfhd, tfhd.payload, 8);
  const tfhdFlags = u32(bytes, tfhd.payload) & 0xffffff;
  const trackId = u32(bytes, tfhd.payload + 4);
  const track = tracks.get(trackId);
  if (track === undefined)
    throw new CmafError('invalid-field', `fragment names track ${trackId}, not in the init segment`);
  let offset = tfhd.payload + 8;
  if (tfhdFlags & TFHD_BASE_DATA_OFFSET) offset += 8;
  if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION_INDEX) offset += 4;
  let defaultDuration = track.defaultSampleDuration;
  let defaultFlags = track.defaultSampleFlags;
  if (tfhdFlags & TFHD_DEFAULT_DURATION) {
    need(tfhd, offset, 4);
    defaultDuration = u32(bytes, offset);
    offset += 4;
  }
  if (tfhdFlags & TFHD_DEFAULT_SIZE) offset += 4;
  if (tfhdFlags & TFHD_DEFAULT_FLAGS) {
    need(tfhd, offset, 4);
    defaultFlags = u32(bytes, offset);
  }

  const tfdt = boxes.find((b) => b.type === 'tfdt');
  if (tfdt === undefined) throw new CmafError('missing-box', `'traf' of track ${trackId} has no 'tfdt'`);
  const tfdtVersion = bytes[tfdt.payload]!;
  need(tfdt, tfdt.payload + 4, tfdtVersion === 1 ? 8 : 4);
  const baseDecodeTime =
    tfdtVersion === 1
      ? u64(bytes, tfdt.payload + 4, 'tfdt baseMediaDecodeTime')
      : u32(bytes, tfdt.payload + 4);

  let duration = 0;
  let sampleCount = 0;
  let firstFlags: number | undefined;
  for (const trun of boxes) {
    if (trun.type !== 'trun') continue;
    need(trun, trun.payload, 8);
    const flags = u32(bytes, trun.payload) & 0xffffff;
    const count = u32(bytes, trun.payload + 4);
    let at = trun.payload + 8;
    if (flags & TRUN_DATA_OFFSET) at += 4;
    let firstSampleFlags: number | undefined;
    if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
      need(trun, at, 4);
      firstSampleFlags = u32(bytes, at);
      at += 4;
    }
    const perSample =
      (flags & TRUN_SAMPLE_DURATION ? 4 : 0) +
      (flags & TRUN_SAMPLE_SIZE ? 4 : 0) +
      (flags & TRUN_SAMPLE_FLAGS ? 4 : 0) +
      (flags & TRUN_COMPOSITION_OFFSET ? 4 : 0);
    need(trun, at, perSample * count);
    for (let i = 0; i < count; i++) {
      let field = at;
      if (flags & TRUN_SAMPLE_DURATION) {
        duration += u32(bytes, field);
        field += 4;
      } else {
        duration += defaultDuration;
      }
      if (flags & TRUN_SAMPLE_SIZE) field += 4;
      if (sampleCount === 0 && i === 0) {
        firstFlags = firstSampleFlags ?? (flags & TRUN_SAMPLE_FLAGS ? u32(bytes, field) : defaultFlags);
      }
      at += perSample;
    }
    sampleCount += count;
  }
  return {
    trackId,
    baseDecodeTime,
    duration,
    sampleCount,
    startsWithSync: firstFlags !== undefined && isSync(firstFlags),
  };
}

/** Timing of one moof: per-track base decode time, duration and whether it starts with a sync sample. */
export function parseMoof(bytes: Uint8Array, moof: Box, init: InitInfo): FragmentTiming {
  const tracks = new Map(init.tracks.map((t) => [t.trackId, t]));
  const runs = children(bytes, moof.payload, moof.end, 'moof')
    .filter((b) => b.type === 'traf')
    .map((traf) => parseTraf(bytes, traf, tracks));
  const timing = runs.find((r) => r.trackId === init.timingTrack.trackId);
  if (timing === undefined) {
    throw new CmafError('missing-box', `'moof' has no 'traf' for timing track ${init.timingTrack.trackId}`);
  }
  return { runs, timing };
}
