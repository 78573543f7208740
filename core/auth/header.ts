/**
 * The request header viewers send their entitlement in (decision D36): `Authorization` already carries the session
 * token on session calls. A module of its own so the viewer page takes this line only (no zod).
 */
export const ENTITLEMENT_HEADER = 'x-mirror-entitlement';
