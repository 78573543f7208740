import {
  DVR_PLAYLIST_CACHE_CONTROL,
  isDvrPlaylistKey,
  type MediaClass,
  THUMBNAIL_CACHE_CONTROL,
} from '../contracts/names.js';

/** Media object keys of decisions D2 and D16 are named in core/contracts/names.ts; storage users import them from here. */
export {
  BROADCAST_REGEX,
  keyOf,
  MEDIA_CLASS_TAG,
  type MediaClass,
  type MediaPath,
  mediaKeys,
  newBroadcastId,
  parseMediaPath,
} from '../contracts/names.js';

/**
 * Content-Type per object class: parts and segments are CMAF media segments, init is an MP4 header. A recording's
 * playlists (D40) share the `recording` class with its chunks, so `key` tells them apart: native players (Safari)
 * go by the type.
 */
export function contentTypeOf(mediaClass: MediaClass, key = ''): string {
  if (key.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (mediaClass === 'thumbnail') return 'image/jpeg';
  return mediaClass === 'init' || mediaClass === 'recording' ? 'video/mp4' : 'video/iso.segment';
}

/** Media objects never change once written (new content gets a new key), so caches may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Thumbnails (decision D41) and DVR playlists (D43, told apart by `key`) are rewritten in place: the only objects
 * that are not immutable.
 */
export function cacheControlOf(mediaClass: MediaClass, key = ''): string {
  if (isDvrPlaylistKey(key)) return DVR_PLAYLIST_CACHE_CONTROL;
  return mediaClass === 'thumbnail' ? THUMBNAIL_CACHE_CONTROL : IMMUTABLE_CACHE_CONTROL;
}
