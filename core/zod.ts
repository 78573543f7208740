/**
 * The zod of every module a Lambda handler imports: zod/mini, the functional build (decision D26). Classic zod
 * (`import { z } from 'zod'`) attaches every method and its JSON Schema processor to every schema, so bundlers
 * cannot drop any of it: 92 KB minified, where mini costs what the schemas use (about 30 KB). Infra and tests may
 * keep classic zod: both builds share zod's core, so a classic schema can hold these and `z.toJSONSchema` reads both.
 */

import { en } from 'zod/locales';
import { config } from 'zod/mini';

// zod/mini registers no locale: without one every message reads "Invalid input", and the 4xx bodies and
// cold-start errors that name a field and say what is wrong about it would lose the second half.
config(en());

export * from 'zod/mini';

/** Memoised factory (D48): what code reads concretely (`.shape`, `.check`) is built on first call, not at cold start. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
