import type { EdgeInvalidation } from '../../functions/control/ports.js';
import type { EdgeCache } from './cache.js';

/**
 * CloudFront's invalidation API on the local edge's cache: the control API's delete of a recording (D40) and its
 * purge route call it exactly as they call CreateInvalidation on AWS. A path ending in `*` drops every cached key
 * it starts; any other path drops that object under every query string it was cached with (CloudFront's own
 * behaviour for a path without a wildcard when query strings are part of the cache key).
 */
export class LocalEdgeInvalidation implements EdgeInvalidation {
  #count = 0;

  constructor(private readonly cache: EdgeCache) {}

  async invalidate(paths: readonly string[]) {
    for (const path of paths) {
      if (path.endsWith('*')) this.cache.invalidate(path.slice(0, -1));
      else this.cache.invalidateObject(path);
    }
    this.#count += 1;
    // Done at once: there are no edge locations to reach.
    return { invalidationId: `local-${this.#count}`, status: 'Completed' };
  }
}
