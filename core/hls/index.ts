export * from './blocking.js';
export * from './build.js';
export * from './constants.js';
export * from './model.js';
export { renderMediaPlaylist, renderMultivariantPlaylist } from './render.js';
export {
  FORCED_CLOSE_MIN_S,
  FORCED_CLOSE_TARGETS,
  forcedCloseS,
  type LostMedia,
  type PartInput,
  type PartPlacement,
  Segmenter,
  type SegmenterOptions,
} from './segmenter.js';
export * from './timeline.js';
