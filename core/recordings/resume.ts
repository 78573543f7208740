import type { RecordingEntry } from './entry.js';
import type { ListedChunk } from './playlist.js';

/**
 * Continuing a broadcast's recording that an earlier recorder (another task, or this process before a restart)
 * already stored objects for (decision D40, amended): its chunk and init names must not be written again (they are
 * served with long cache lifetimes), and its playlist's chunks stay listed ahead of the new ones.
 */

const CHUNK_NAME = /^rec-(\d+)\.m4s$/;
const MAP_URI = /URI="rec-init-(\d+)\.mp4"/;

/**
 * Pure: the chunks a stored VOD playlist (renderVodPlaylist) lists, in order; undefined for text it did not write.
 * Sizes are not in the playlist: `bytes` is 0, and such chunks are left out of bandwidth figures.
 */
export function parseVodPlaylist(text: string): ListedChunk[] | undefined {
  const lines = text.split('\n');
  if (lines[0] !== '#EXTM3U') return undefined;
  const chunks: ListedChunk[] = [];
  let initVersion: number | undefined;
  let durationS: number | undefined;
  let discontinuity = false;
  for (const line of lines) {
    if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-MAP:')) initVersion = Number(MAP_URI.exec(line)?.[1] ?? Number.NaN);
    else if (line.startsWith('#EXTINF:')) durationS = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line !== '' && !line.startsWith('#')) {
      const index = Number(CHUNK_NAME.exec(line)?.[1] ?? Number.NaN);
      if (!Number.isSafeInteger(index) || !Number.isSafeInteger(initVersion) || !(durationS! >= 0))
        return undefined;
      chunks.push({ index, durationS: durationS!, initVersion: initVersion!, discontinuity, bytes: 0 });
      discontinuity = false;
      durationS = undefined;
    }
  }
  return chunks;
}

/** Where a rendition's recording continues: chunks listed before it, the first free chunk index and init version. */
export interface ResumePoint {
  readonly listed: readonly ListedChunk[];
  /** The run's chunk 0 is stored as `rec-{chunkOffset}`. */
  readonly chunkOffset: number;
  /** The run's init version 1 is stored as `rec-init-{initOffset + 1}`. */
  readonly initOffset: number;
}

/**
 * Pure: past every name the stored playlist lists and every one the index entry counts. An entry still
 * `recording` belongs to a recorder that did not end (it crashed, or was killed): it may have stored one chunk
 * and one init past its last index write (as countedObjectNames assumes), so those names are skipped too,
 * in renditions the entry does not count yet as well.
 */
export function resumePoint(
  listed: readonly ListedChunk[],
  entry: RecordingEntry | undefined,
  rendition: string,
): ResumePoint {
  const counts = entry?.objects?.[rendition];
  const margin = entry?.status === 'recording' ? 1 : 0;
  let chunkOffset = entry === undefined ? 0 : (counts?.chunks ?? 0) + margin;
  let initOffset = entry === undefined ? 0 : (counts?.inits ?? 0) + margin;
  for (const c of listed) {
    chunkOffset = Math.max(chunkOffset, c.index + 1);
    initOffset = Math.max(initOffset, c.initVersion);
  }
  return { listed, chunkOffset, initOffset };
}
