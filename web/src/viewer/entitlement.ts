// The viewer's entitlement for private streams (decision D36): from the page URL's fragment
// (`#entitlement=<jwt>`, never sent to a server, so it stays out of logs and caches) or from the page that embeds
// the viewer (postMessage `{ type: 'mirror-entitlement', token }`, for a renewal without a reload).
import { ENTITLEMENT_HEADER } from '../../../core/auth/header.js';

/** Headers carrying `entitlement` (none without one). */
export function entitlementHeaders(entitlement: string | undefined): Record<string, string> {
  return entitlement ? { [ENTITLEMENT_HEADER]: entitlement } : {};
}

/** The entitlement in a URL fragment such as `#entitlement=eyJ...`, if any (JWT characters only). */
export function entitlementFromFragment(hash: string): string | undefined {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get('entitlement') ?? '';
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value) ? value : undefined;
}

/** A message from the embedding page that carries a (new) entitlement, if `data` is one. */
export function entitlementFromMessage(data: unknown): string | undefined {
  const message = data as { type?: unknown; token?: unknown } | null;
  if (message?.type !== 'mirror-entitlement' || typeof message.token !== 'string') return undefined;
  return entitlementFromFragment(`entitlement=${encodeURIComponent(message.token)}`);
}
