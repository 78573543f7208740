import * as z from '../zod.js';

/**
 * Names that cross process boundaries, each written once: the stream-id, rendition and broadcast grammars and the
 * media object layout of decisions D2 and D16 (URL path = storage key, stream id first, broadcast id before the
 * file name). The packager writes these names, storage
 * and the manifest function read them back, the control and session APIs validate ids with them and the local edge
 * routes on them.
 *
 * The SRT listener (containers/ingest/native/src/streamid.cc) parses `r=` without checking this grammar: it only
 * looks the id up in its admission table, which holds registered ids (valid by StreamId), so any other id is
 * refused as unknown.
 */

/** Stream ids are the first segment of every URL and S3 key: a lowercase slug of 1 to 63 characters. */
export const STREAM_ID_PATTERN = '[a-z0-9][a-z0-9-]{0,62}';
export const STREAM_ID_REGEX = new RegExp(`^${STREAM_ID_PATTERN}$`);
/** First path segments kept for the web app, the APIs and health checks: a stream of that id would collide. */
export const RESERVED_STREAM_IDS = ['api', 'app', 'assets', 'viewer', 'operator', 'health'] as const;
/**
 * The concrete schema, for a reader that adds its own metadata (`.check(z.meta(...))`: on the lazy it would move in
 * the JSON Schema); everyone else uses the lazy StreamId, built on first use (decision D48).
 */
export const streamIdSchema = z.once(() =>
  z.string().check(
    z.regex(
      STREAM_ID_REGEX,
      'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
    ),
    z.refine((id) => !(RESERVED_STREAM_IDS as readonly string[]).includes(id), 'is a reserved path'),
    // The edge sends `*/recording-*.m3u8` to storage (recordings' multivariants, D40): such a stream's live playlists
    // would match it.
    z.refine(
      (id) => !id.startsWith('recording-'),
      'must not start with recording- (reserved for recordings)',
    ),
  ),
);
export const StreamId = /* @__PURE__ */ z.lazy(streamIdSchema);

/** Rendition names (ladder rung names such as `360p`) are the second path segment: 1 to 32 characters. */
export const RENDITION_PATTERN = '[A-Za-z0-9][A-Za-z0-9_-]{0,31}';
export const RENDITION_REGEX = new RegExp(`^${RENDITION_PATTERN}$`);

/**
 * A broadcast is one publish of a stream, from an encoder's connect to its disconnect (decision D16): its id is
 * the third path segment of every media object, so no object name is ever written twice and nothing cached as
 * immutable can go stale, whatever happens to the live state (expiry, a Redis flush, a stream deleted and created
 * again). Lowercase base36: 8 characters of wall-clock ms, then random characters.
 */
export const BROADCAST_PATTERN = '[0-9a-z]{8,24}';
export const BROADCAST_REGEX = new RegExp(`^${BROADCAST_PATTERN}$`);
export const BroadcastId = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(BROADCAST_REGEX, 'must be 8-24 lowercase letters or digits')),
);
/** Characters of the time part: base36 ms fills 8 until the year 5188, so ids also sort by start time. */
const BROADCAST_TIME_CHARS = 8;
/** Random characters after the time: 36^4 (1.7 million) ids per millisecond, with no counter to store or lose. */
export const BROADCAST_RANDOM_CHARS = 4;

/**
 * A fresh broadcast id for a publish starting at `nowMs`. Unique without any stored counter: two publishes of one
 * stream in the same millisecond would also need the same random characters (the publisher lease keeps them
 * apart in time anyway). `random` supplies one byte per random character (tests pass fixed bytes).
 */
export function newBroadcastId(
  nowMs: number,
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(BROADCAST_RANDOM_CHARS)),
): string {
  const time = Math.max(0, Math.floor(nowMs)).toString(36).padStart(BROADCAST_TIME_CHARS, '0');
  const tail = [...random.subarray(0, BROADCAST_RANDOM_CHARS)].map((b) => (b % 36).toString(36)).join('');
  return `${time}${tail}`;
}

/** What a media object is; each class has its own S3 lifecycle rule (decision D3). */
export type MediaClass = 'part' | 'segment' | 'init' | 'recording' | 'thumbnail';
/** S3 object tag holding the MediaClass: the S3 adapter writes it, the bucket's lifecycle rules filter on it. */
export const MEDIA_CLASS_TAG = 'mirror-class';

const MULTIVARIANT_PLAYLIST = 'master.m3u8';

/**
 * Names inside one rendition's folder: media sit in the broadcast's subfolder (`{broadcast}/part-3-1.m4s`), so a
 * media playlist (`/{stream}/{rendition}/playlist.m3u8`) names them relative to itself, without `..`.
 */
export const renditionFiles = {
  init: (broadcast: string, version: number) => `${broadcast}/init-${version}.mp4`,
  segment: (broadcast: string, msn: number) => `${broadcast}/seg-${msn}.m4s`,
  part: (broadcast: string, msn: number, part: number) => `${broadcast}/part-${msn}-${part}.m4s`,
  playlist: 'playlist.m3u8',
};

const inRendition = (streamId: string, rendition: string, file: string) => `${streamId}/${rendition}/${file}`;

/**
 * Storage keys of media objects: the URL path without its leading slash. The stream stays the first segment (S3
 * spreads load by prefix; lifecycle rules select by the MEDIA_CLASS_TAG object tag, not by prefix).
 */
export const mediaKeys = {
  init: (streamId: string, rendition: string, broadcast: string, version: number) =>
    inRendition(streamId, rendition, renditionFiles.init(broadcast, version)),
  segment: (streamId: string, rendition: string, broadcast: string, msn: number) =>
    inRendition(streamId, rendition, renditionFiles.segment(broadcast, msn)),
  part: (streamId: string, rendition: string, broadcast: string, msn: number, part: number) =>
    inRendition(streamId, rendition, renditionFiles.part(broadcast, msn, part)),
};

/**
 * A live stream's latest picture, one JPEG per width (decision D41): the one media name that is written again and
 * again (each refresh replaces it), so it is never cached as immutable (THUMBNAIL_CACHE_CONTROL). In the stream's
 * folder, outside any broadcast: its URL stays the same across reconnects, so the stream status can name it.
 */
export const thumbnailKey = (streamId: string, width: number, capability?: string) =>
  capability === undefined
    ? `${streamId}/thumbnail-${width}.jpg`
    : `${streamId}/thumbnail-${capability}-${width}.jpg`;
/**
 * A private stream's pictures (D41, amended) are named with a capability: 128 random bits (22 base64url
 * characters) new with each transcode pipeline, known only to the stream's status (operators, entitled viewers).
 */
export const THUMBNAIL_CAPABILITY_PATTERN = '[A-Za-z0-9_-]{22}';
const THUMBNAIL_KEY = new RegExp(`^[^/]+/thumbnail-(?:${THUMBNAIL_CAPABILITY_PATTERN}-)?\\d+\\.jpg$`);
/** Whether a storage key is a thumbnail: the one name written in place, never cached as immutable (D41). */
export const isThumbnailKey = (key: string): boolean => THUMBNAIL_KEY.test(key);
/** The thumbnail the status and the stream list name: 320 px wide (the tile rung's size is the other one). */
export const THUMBNAIL_WIDTH = 320;
export const thumbnailPath = (streamId: string, width = THUMBNAIL_WIDTH, capability?: string) =>
  `/${thumbnailKey(streamId, width, capability)}`;
/** About one refresh (1 s): a cache may serve a picture up to 2 s old, never a stale one for long. */
export const THUMBNAIL_CACHE_CONTROL = 'public, max-age=1';

/**
 * Recordings (decision D40): one per broadcast, so the broadcast's folder holds them and no name is written twice.
 * Chunks of many segments (objects of 1 MB or more kept for the retention) with their own init copies: the live
 * init segments expire with the DVR window, a recording outlives it. Names inside the rendition's folder are
 * relative to the recording's media playlist, which sits in the same broadcast folder.
 */
export const recordingFiles = {
  init: (version: number) => `rec-init-${version}.mp4`,
  chunk: (index: number) => `rec-${index}.m4s`,
  playlist: 'recording.m3u8',
};

export const recordingKeys = {
  init: (streamId: string, rendition: string, broadcast: string, version: number) =>
    inRendition(streamId, rendition, `${broadcast}/${recordingFiles.init(version)}`),
  chunk: (streamId: string, rendition: string, broadcast: string, index: number) =>
    inRendition(streamId, rendition, `${broadcast}/${recordingFiles.chunk(index)}`),
  playlist: (streamId: string, rendition: string, broadcast: string) =>
    inRendition(streamId, rendition, `${broadcast}/${recordingFiles.playlist}`),
  /** In the stream's folder next to the live multivariant; a broadcast id never reads `master`. */
  multivariant: (streamId: string, broadcast: string) => `${streamId}/recording-${broadcast}.m3u8`,
};

/** From a recording's multivariant playlist (in the stream's folder) to a rendition's recording playlist. */
export const recordingVariantUri = (rendition: string, broadcast: string) =>
  `${rendition}/${broadcast}/${recordingFiles.playlist}`;

/**
 * A recording's id: its stream and broadcast joined by a dash. Broadcast ids hold no dash, so the last dash
 * splits them back whatever dashes the stream id has.
 */
export const recordingId = (streamId: string, broadcast: string) => `${streamId}-${broadcast}`;

export function parseRecordingId(id: string): { streamId: string; broadcast: string } | undefined {
  const at = id.lastIndexOf('-');
  if (at <= 0) return undefined;
  const streamId = id.slice(0, at);
  const broadcast = id.slice(at + 1);
  if (!StreamId.safeParse(streamId).success || !BROADCAST_REGEX.test(broadcast)) return undefined;
  return { streamId, broadcast };
}

/**
 * The DVR time-shift (decision D43): a sliding window of long segments (`dvr-{n}.m4s`, several live segments each)
 * per rendition, with their own init copies, in the broadcast's folder like every other media object; the DVR
 * playlists sit outside any broadcast (`/{stream}/dvr.m3u8`, `/{stream}/{rendition}/dvr.m3u8`) so their URL stays
 * the same across reconnects. They are rewritten in place at each DVR segment: never cached as immutable.
 */
export const DVR_PLAYLIST = 'dvr.m3u8';
export const dvrFiles = {
  init: (broadcast: string, version: number) => `${broadcast}/dvr-init-${version}.mp4`,
  chunk: (broadcast: string, index: number) => `${broadcast}/dvr-${index}.m4s`,
};
export const dvrKeys = {
  init: (streamId: string, rendition: string, broadcast: string, version: number) =>
    inRendition(streamId, rendition, dvrFiles.init(broadcast, version)),
  chunk: (streamId: string, rendition: string, broadcast: string, index: number) =>
    inRendition(streamId, rendition, dvrFiles.chunk(broadcast, index)),
  playlist: (streamId: string, rendition: string) => inRendition(streamId, rendition, DVR_PLAYLIST),
  multivariant: (streamId: string) => `${streamId}/${DVR_PLAYLIST}`,
};
/** The DVR multivariant's URL path: what `dvrUrl` names in the stream status and the session's tiles. */
export const dvrPath = (streamId: string) => `/${dvrKeys.multivariant(streamId)}`;
/** From the DVR multivariant (in the stream's folder) to a rendition's DVR playlist. */
export const dvrVariantUri = (rendition: string) => `${rendition}/${DVR_PLAYLIST}`;
/** Whether a storage key is a DVR playlist: rewritten in place, so cached briefly (DVR_PLAYLIST_CACHE_CONTROL). */
export const isDvrPlaylistKey = (key: string): boolean => /^\/?[^/]+\/(?:[^/]+\/)?dvr\.m3u8$/.test(key);
/**
 * A DVR playlist changes once per DVR segment (6 s at the default window): a cache may keep it 2 s, a third of
 * that, so a player sees a new segment at most 2 s late and the origin answers each edge at most every 2 s.
 */
export const DVR_PLAYLIST_CACHE_CONTROL = 'public, max-age=2';

/** URL paths of a stream's playlists. */
export const playlistPaths = {
  multivariant: (streamId: string) => `/${streamId}/${MULTIVARIANT_PLAYLIST}`,
  media: (streamId: string, rendition: string) =>
    `/${inRendition(streamId, rendition, renditionFiles.playlist)}`,
};

/** URIs between playlists, relative to the playlist that names them. */
export const playlistUris = {
  /** From the multivariant playlist (in the stream's folder) to a rendition's media playlist. */
  variant: (rendition: string) => `${rendition}/${renditionFiles.playlist}`,
  /** From one media playlist to a sibling rendition's, for EXT-X-RENDITION-REPORT. */
  sibling: (rendition: string) => `../${rendition}/${renditionFiles.playlist}`,
};

/** Where a media object lives: stream, rendition and the broadcast that wrote it. */
interface MediaFolder {
  readonly streamId: string;
  readonly rendition: string;
  readonly broadcast: string;
}

export type MediaPath =
  | (MediaFolder & { readonly kind: 'init'; readonly version: number })
  | (MediaFolder & { readonly kind: 'segment'; readonly msn: number })
  | (MediaFolder & { readonly kind: 'part'; readonly msn: number; readonly part: number });

export type PlaylistPath =
  | { readonly kind: 'multivariant'; readonly streamId: string }
  | { readonly kind: 'media'; readonly streamId: string; readonly rendition: string };

const literal = (name: string) => name.replaceAll('.', '\\.');
// Digit limits keep every number a safe integer: versions 9 digits, sequence numbers 15, part indexes 6.
const MEDIA_PATH = new RegExp(
  `^/?(${STREAM_ID_PATTERN})/(${RENDITION_PATTERN})/(${BROADCAST_PATTERN})/(?:init-(\\d{1,9})\\.mp4|seg-(\\d{1,15})\\.m4s|part-(\\d{1,15})-(\\d{1,6})\\.m4s)$`,
);
const MULTIVARIANT_PATH = new RegExp(`^/(${STREAM_ID_PATTERN})/${literal(MULTIVARIANT_PLAYLIST)}$`);
const MEDIA_PLAYLIST_PATH = new RegExp(
  `^/(${STREAM_ID_PATTERN})/(${RENDITION_PATTERN})/${literal(renditionFiles.playlist)}$`,
);

/** Parses a media URL path or key; undefined when it is not one of ours. */
export function parseMediaPath(path: string): MediaPath | undefined {
  const m = MEDIA_PATH.exec(path);
  if (m === null) return undefined;
  const [, streamId, rendition, broadcast, version, seg, partMsn, part] = m;
  const folder: MediaFolder = { streamId: streamId!, rendition: rendition!, broadcast: broadcast! };
  if (version !== undefined) return { kind: 'init', ...folder, version: Number(version) };
  if (seg !== undefined) return { kind: 'segment', ...folder, msn: Number(seg) };
  return { kind: 'part', ...folder, msn: Number(partMsn), part: Number(part) };
}

/** Parses a playlist URL path; undefined when it is not one of ours. */
export function parsePlaylistPath(path: string): PlaylistPath | undefined {
  const multivariant = MULTIVARIANT_PATH.exec(path);
  if (multivariant !== null) return { kind: 'multivariant', streamId: multivariant[1]! };
  const media = MEDIA_PLAYLIST_PATH.exec(path);
  if (media !== null) return { kind: 'media', streamId: media[1]!, rendition: media[2]! };
  return undefined;
}

export function keyOf(path: MediaPath): string {
  switch (path.kind) {
    case 'init':
      return mediaKeys.init(path.streamId, path.rendition, path.broadcast, path.version);
    case 'segment':
      return mediaKeys.segment(path.streamId, path.rendition, path.broadcast, path.msn);
    case 'part':
      return mediaKeys.part(path.streamId, path.rendition, path.broadcast, path.msn, path.part);
  }
}
