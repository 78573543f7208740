import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSafeKey } from '../../storage/storage.js';
import { LocalDiskStorage } from './local.js';

/**
 * Recordings' objects on local disk (decision D40), for the control API's delete: its reads through the media
 * storage, and removal of each key (a key already gone is not an error: a retried delete finishes the job).
 */
export class LocalRecordingObjects {
  private readonly storage: LocalDiskStorage;

  constructor(readonly root: string) {
    this.storage = new LocalDiskStorage(root);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.storage.get(key);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertSafeKey(key);
    await Promise.all(keys.map((key) => rm(join(this.root, key), { force: true })));
  }
}
