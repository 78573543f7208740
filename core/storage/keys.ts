/** Media object keys of decision D2: the URL path without its leading slash, starting with the stream id. */

export type MediaClass = 'part' | 'segment' | 'init' | 'recording';

export const mediaKeys = {
  init: (streamId: string, rendition: string, version: number) =>
    `${streamId}/${rendition}/init-${version}.mp4`,
  segment: (streamId: string, rendition: string, msn: number) => `${streamId}/${rendition}/seg-${msn}.m4s`,
  part: (streamId: string, rendition: string, msn: number, part: number) =>
    `${streamId}/${rendition}/part-${msn}-${part}.m4s`,
};

export type MediaPath =
  | { readonly kind: 'init'; readonly streamId: string; readonly rendition: string; readonly version: number }
  | { readonly kind: 'segment'; readonly streamId: string; readonly rendition: string; readonly msn: number }
  | {
      readonly kind: 'part';
      readonly streamId: string;
      readonly rendition: string;
      readonly msn: number;
      readonly part: number;
    };

const SLUG = '[a-z0-9][a-z0-9-]{0,62}';
const RENDITION = '[A-Za-z0-9][A-Za-z0-9_-]{0,31}';
const MEDIA_PATH = new RegExp(
  `^/?(${SLUG})/(${RENDITION})/(?:init-(\\d{1,9})\\.mp4|seg-(\\d{1,15})\\.m4s|part-(\\d{1,15})-(\\d{1,6})\\.m4s)$`,
);

/** Parses a media URL path or key; undefined when it is not one of ours. */
export function parseMediaPath(path: string): MediaPath | undefined {
  const m = MEDIA_PATH.exec(path);
  if (m === null) return undefined;
  const [, streamId, rendition, version, seg, partMsn, part] = m;
  if (version !== undefined)
    return { kind: 'init', streamId: streamId!, rendition: rendition!, version: Number(version) };
  if (seg !== undefined)
    return { kind: 'segment', streamId: streamId!, rendition: rendition!, msn: Number(seg) };
  return {
    kind: 'part',
    streamId: streamId!,
    rendition: rendition!,
    msn: Number(partMsn),
    part: Number(part),
  };
}

export function keyOf(path: MediaPath): string {
  switch (path.kind) {
    case 'init':
      return mediaKeys.init(path.streamId, path.rendition, path.version);
    case 'segment':
      return mediaKeys.segment(path.streamId, path.rendition, path.msn);
    case 'part':
      return mediaKeys.part(path.streamId, path.rendition, path.msn, path.part);
  }
}

export function classOf(path: MediaPath): MediaClass {
  return path.kind;
}

/** Content-Type per object class: parts and segments are CMAF media segments, init is an MP4 header. */
export function contentTypeOf(mediaClass: MediaClass): string {
  return mediaClass === 'init' || mediaClass === 'recording' ? 'video/mp4' : 'video/iso.segment';
}

/** Media objects never change once written (new content gets a new key), so caches may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
