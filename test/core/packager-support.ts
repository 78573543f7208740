import { MSN_FLOOR_EPOCH_MS } from '../../core/hls/index.js';
import type { MediaClass, MediaStorage } from '../../core/storage/index.js';

/**
 * A packager clock that reads MSN_FLOOR_EPOCH_MS at its first call and runs with real time from there: a fresh
 * timeline then starts at msn 0 (its floor, decision D24), so expected numbers stay small, while backoffs, probes
 * and holds still see time pass.
 */
export function epochClock(): () => number {
  let offset: number | undefined;
  return () => {
    const now = Date.now();
    offset ??= now - MSN_FLOOR_EPOCH_MS;
    return now - offset;
  };
}

/** Records every key written, in order, and passes everything through to real storage. */
export class RecordingStorage implements MediaStorage {
  readonly puts: string[] = [];
  constructor(private readonly inner: MediaStorage) {}
  async put(key: string, bytes: Uint8Array, mediaClass: MediaClass): Promise<void> {
    this.puts.push(key);
    await this.inner.put(key, bytes, mediaClass);
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
}
