// Cold start (decision D34): one statement added to ioredis's Commander module at install (postinstall).
//
// At load, ioredis adds about 600 command methods (each command and its Buffer variant) to the prototype of its
// Commander class. V8 keeps a class's prototype in fast mode until something uses it as a prototype, and in fast
// mode every added property copies the prototype's property table: 11-50 ms on this machine, a third of loading
// ioredis and the largest single cost of a Lambda cold start. Creating one object from the prototype first puts
// V8 in its prototype set-up mode (dictionary properties): the same loop takes 0.7 ms. The object is discarded;
// ioredis behaves exactly as before. Idempotent; if a new ioredis moved the anchor, it warns and changes nothing
// (test/infra/bundle-size.test.ts then fails, so the patch is not lost silently).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'node_modules', 'ioredis', 'built', 'utils', 'Commander.js');
const ANCHOR = 'commands.push("sentinel");\n';
const PATCH =
  'Object.create(Commander.prototype); // Mirror D34 (scripts/patch-ioredis.mjs): V8 prototype mode before ~600 additions\n';

const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
if (text === undefined || text.includes(PATCH)) {
  // ioredis not installed (nothing to patch) or already patched.
} else if (!text.includes(ANCHOR)) {
  console.warn(`[mirror] ioredis not patched (D34): "${ANCHOR.trim()}" not found in ${file}`);
} else {
  writeFileSync(file, text.replace(ANCHOR, ANCHOR + PATCH));
}
