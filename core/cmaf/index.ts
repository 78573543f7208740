export { CmafError, type CmafErrorCode } from './errors.js';
export type { FragmentTiming, TrackRun } from './fragment.js';
export type { InitInfo, TrackInfo, TrackKind } from './init.js';
export {
  type Fragment,
  FragmentSplitter,
  type InitSegment,
  MAX_FRAGMENT_BYTES,
  type SplitterOutput,
} from './splitter.js';
