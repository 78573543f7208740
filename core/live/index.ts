export * from './keys.js';
export { parseRenditionState, type RenditionState, type StreamSnapshot } from './state.js';
