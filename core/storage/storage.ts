import type { MediaClass } from './keys.js';

/** Where parts, segments and init segments live. Keys are those of decision D2 (see keys.ts). */
export interface MediaStorage {
  /** Stores an immutable object; resolves once a reader can get all of it (never a partial object). */
  put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void>;
  /** The object's bytes, or undefined if it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
}

export class StorageKeyError extends Error {
  override readonly name = 'StorageKeyError';
}

/** Keys are relative, slash-separated, without empty, '.' or '..' segments. */
export function assertSafeKey(key: string): void {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new StorageKeyError(`unsafe storage key: ${JSON.stringify(key)}`);
  }
}
