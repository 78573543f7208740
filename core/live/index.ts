export * from './keys.js';
export { LiveState, type PublishNotice, snapshotOf } from './live-state.js';
export { parseRenditionState, type RenditionState, type StreamSnapshot } from './state.js';
export { LiveWaiters } from './waiters.js';
