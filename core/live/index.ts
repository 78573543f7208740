export * from './keys.js';
export {
  parseRenditionState,
  RENDITION_STATE_VERSION,
  type RenditionState,
  type StreamSnapshot,
} from './state.js';
