/**
 * The DVR window's limits (decision D43), apart from core/dvr/window.ts so the environment contract, which every
 * function's bundle carries, does not pull the playlist code in.
 */

/** media.dvrWindowS's default: how far back viewers can seek. */
export const DEFAULT_DVR_WINDOW_S = 4 * 3600;
/** The stage configuration's floor is 60 s; tests go lower to scale a window down in time. */
export const MIN_DVR_WINDOW_S = 10;
/** media.dvrWindowS's ceiling: 7 days. */
export const MAX_DVR_WINDOW_S = 7 * 86_400;
