/**
 * How long the edge keeps the public stream list (the session function sends it as max-age; the policy caps it):
 * every viewer refreshes it, so this turns an API request per viewer into one per edge cache per two seconds,
 * while a stream going live shows within a refresh (D27). Its own module: the session function needs this figure,
 * not the whole behaviours table (its bundle is held under 300 KB, D26).
 */
export const STREAM_LIST_TTL_SECONDS = 2;
