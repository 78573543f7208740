export * from './keys.js';
export { assertSafeKey, type MediaStorage, StorageKeyError } from './storage.js';
