export {
  DEGRADED_HOLD_MS,
  type LossReason,
  type PackagerEvent,
  type PackagerOptions,
  type PartPublished,
} from './options.js';
export { Packager } from './packager.js';
export { type PartStore, partTtlMs } from './part-store.js';
export { DEFAULT_QUEUE_BOUNDS, type WriteQueueBounds } from './write-queue.js';
