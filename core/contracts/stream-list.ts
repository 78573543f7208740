import { STREAM_LIST_PATH } from './api-paths.js';

/**
 * How long the edge keeps the public stream list (the session function sends it as max-age; the policy caps it):
 * every viewer refreshes it, so this turns an API request per viewer into one per edge cache per two seconds,
 * while a stream going live shows within a refresh (D27). Its own module: the session function needs this figure,
 * not the whole behaviours table (its bundle is held under 300 KB, D26).
 */
export const STREAM_LIST_TTL_SECONDS = 2;

/**
 * The list a viewer with an entitlement sees: the public streams and its private ones (decision D36). A path of its
 * own, outside the cached list's behaviour (whose pattern is STREAM_LIST_PATH exactly): it falls to the uncached
 * `/api/*` behaviour, which forwards the entitlement header, and is answered `private, no-store`, so no shared cache
 * keeps one viewer's private streams for another. The public path never reads the header.
 */
export const ENTITLED_STREAM_LIST_PATH = `${STREAM_LIST_PATH}/entitled`;
