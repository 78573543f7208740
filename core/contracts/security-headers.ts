/**
 * The pages' Content-Security-Policy and which behaviours carry it (decision D39), as data: the CloudFront response
 * headers policy of the page behaviour (infra/constructs/delivery/policies.ts) and the local edge (local/edge/edge.ts)
 * render it from here, so a page that works on the laptop works behind CloudFront.
 *
 * What the pages need, and nothing else: their own scripts and stylesheet (web/build.ts emits no inline code;
 * element.style set from script is CSSOM, which style-src does not govern), media through MSE (`blob:` object URLs)
 * or natively from the same origin, hls.js's transmuxing worker (a `blob:` URL it builds from its own code), and
 * fetches to the same origin (API, playlists, media), plus the operator sign-in's token endpoint on the Cognito
 * domain, which is known at deploy time only (`connectOrigins`).
 *
 * The embeddable player (`/mirror-player.js`) is served by the same behaviour: a script response's CSP and
 * frame-ancestors are ignored by browsers (they govern documents), and integrators load it cross-origin under the
 * CORS set every behaviour sends, so it stays embeddable with these headers. No Cross-Origin-Resource-Policy is
 * sent for that reason.
 */

import type { BehaviourName } from './delivery.js';

/** The behaviours whose answers are documents: the viewer and operator pages (and the scripts beside them). */
export const PAGE_BEHAVIOURS: readonly BehaviourName[] = ['web'];

export function isPageBehaviour(name: BehaviourName): boolean {
  return PAGE_BEHAVIOURS.includes(name);
}

/** The policy's directives; `connect-src` gains the deployment's extra origins. */
export const PAGE_CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'manifest-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  // The same rule as X-Frame-Options SAMEORIGIN (core/contracts/delivery.ts), for browsers that read only this one.
  'frame-ancestors': ["'self'"],
} as const satisfies Record<string, readonly string[]>;

export interface PageCspOptions {
  /** Origins the pages fetch from besides their own (the Cognito domain of the operator sign-in). */
  readonly connectOrigins?: readonly string[];
}

/** Characters that would end a directive or a source list if an origin carried them. */
const UNSAFE_SOURCE = /[\s;,'"]/;

/** The Content-Security-Policy header value of the pages. */
export function pageContentSecurityPolicy(options: PageCspOptions = {}): string {
  const extra = options.connectOrigins ?? [];
  for (const origin of extra) {
    if (UNSAFE_SOURCE.test(origin) || !/^https:\/\/[^/]+$/.test(origin)) {
      throw new Error(`connect origin ${JSON.stringify(origin)} must be https://host with no path`);
    }
  }
  return Object.entries(PAGE_CSP_DIRECTIVES)
    .map(([name, sources]) => {
      const all = name === 'connect-src' ? [...sources, ...extra] : sources;
      return `${name} ${[...new Set(all)].join(' ')}`;
    })
    .join('; ');
}

/** Headers a behaviour adds to the shared security and CORS set: the pages' CSP, or nothing. */
export function behaviourSecurityHeaders(
  name: BehaviourName,
  options: PageCspOptions = {},
): Readonly<Record<string, string>> {
  return isPageBehaviour(name) ? { 'content-security-policy': pageContentSecurityPolicy(options) } : {};
}
