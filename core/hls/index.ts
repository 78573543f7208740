export * from './blocking.js';
export * from './build.js';
export * from './constants.js';
export * from './model.js';
export { renderMediaPlaylist, renderMultivariantPlaylist } from './render.js';
export { type PartInput, type PartPlacement, Segmenter, type SegmenterOptions } from './segmenter.js';
export * from './timeline.js';
