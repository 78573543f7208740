import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: where the ingest service's sources and the native addon are found. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
