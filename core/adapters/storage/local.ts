import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MediaClass } from '../../storage/keys.js';
import { assertSafeKey, type MediaStorage } from '../../storage/storage.js';

/**
 * Media on local disk (the embedded default). Writes go to a temporary file in the same directory and are renamed
 * into place, so a reader sees either no file or the whole file.
 */
export class LocalDiskStorage implements MediaStorage {
  constructor(readonly root: string) {}

  async put(key: string, bytes: Uint8Array, _mediaClass: MediaClass): Promise<void> {
    assertSafeKey(key);
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      return new Uint8Array(await readFile(join(this.root, key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
