import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { isDvrPlaylistKey } from '../../core/contracts/names.js';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import { cacheControlOf, IMMUTABLE_CACHE_CONTROL } from '../../core/storage/index.js';

const CONTENT_TYPES: Record<string, string> = {
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.ts': 'video/mp2t',
};

function notFound(): HttpResponse {
  return {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: 'not found\n',
  };
}

/** Resolves a URL path inside root, refusing anything that escapes it. */
function resolveInside(root: string, path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const full = normalize(join(root, decoded));
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined;
}

/** Serves the files under `dir` for GET and HEAD; `cacheControl` gives the Cache-Control of a file of that type. */
function fileOrigin(
  dir: string,
  options: { indexDirectories: boolean; cacheControl: (contentType: string, path: string) => string },
): HttpApp {
  const root = normalize(dir);
  return {
    async handle(request: HttpRequest): Promise<HttpResponse> {
      if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
      let file = resolveInside(root, request.path);
      if (file === undefined) return notFound();
      try {
        if (options.indexDirectories && (await stat(file)).isDirectory()) file = join(file, 'index.html');
        const body = await readFile(file);
        const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
        return {
          status: 200,
          headers: { 'content-type': type, 'cache-control': options.cacheControl(type, request.path) },
          body,
        };
      } catch {
        return notFound();
      }
    },
  };
}

/**
 * Media storage as an origin: the local-disk twin of the S3 bucket (keys equal paths, D2).
 * Media objects are immutable, so they carry the Cache-Control the S3 uploads carry; thumbnails (the only JPEGs)
 * are rewritten in place and carry their short one (D41).
 */
export function createMediaOrigin(mediaDir: string): HttpApp {
  return fileOrigin(mediaDir, {
    indexDirectories: false,
    // DVR playlists (D43) are rewritten in place too, told apart by their name.
    cacheControl: (type, path) =>
      isDvrPlaylistKey(path)
        ? cacheControlOf('segment', path)
        : type === 'image/jpeg'
          ? cacheControlOf('thumbnail')
          : IMMUTABLE_CACHE_CONTROL,
  });
}

/** The built web app: `/` and `/operator/` serve their index.html; HTML is revalidated, scripts briefly cached. */
export function createWebOrigin(webDir: string): HttpApp {
  return fileOrigin(webDir, {
    indexDirectories: true,
    cacheControl: (type) => (type.startsWith('text/html') ? 'no-cache' : 'public, max-age=60'),
  });
}
