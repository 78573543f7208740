import { readFile } from 'node:fs/promises';

/**
 * The OpenAPI document shipped beside a Lambda bundle (AppFunction copies the committed docs/ document there), read
 * on the first request for it. The apps use it only where the bundler defined MIRROR_OPENAPI_DOCUMENT; everywhere
 * else they generate the document from their route table (decision D26).
 */
export function shippedOpenApiDocument(file: string): () => Promise<Record<string, unknown>> {
  return async () =>
    JSON.parse(await readFile(new URL(file, import.meta.url), 'utf8')) as Record<string, unknown>;
}
