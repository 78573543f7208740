export * from './keys.js';
export { LocalDiskStorage } from './local.js';
export { MEDIA_CLASS_TAG, S3Storage } from './s3.js';
export { assertSafeKey, type MediaStorage, StorageKeyError } from './storage.js';
