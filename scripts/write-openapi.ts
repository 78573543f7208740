// Writes the control and session APIs' OpenAPI 3.1 documents to docs/ from the handlers' own route tables.
// Usage: npx tsx scripts/write-openapi.ts [--check]   (--check: exit 1 if docs/ is out of date)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocuments } from '../functions/control/openapi-documents.js';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const check = process.argv.includes('--check');
let stale = false;
for (const [file, document] of Object.entries(openApiDocuments())) {
  const path = join(docs, file);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${path} is out of date: run npx tsx scripts/write-openapi.ts`);
      stale = true;
    }
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
