import fc from 'fast-check';
import { expect } from 'vitest';
import type { HttpApp, HttpRequest } from '../../core/http.js';

/** Shared generators for fuzzing an API with malformed (and some well-formed) requests. */

const odd = fc.constantFrom(
  '',
  ' ',
  '%',
  '%ZZ',
  '..',
  '../..',
  'api',
  'A',
  '-',
  'x'.repeat(300),
  '\u0000',
  'é',
  '🙂',
  '{id}',
  'null',
);
export const segment = fc.oneof(
  odd,
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,70}$/),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

export const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** A body: valid-looking objects with wrong or extra fields, other JSON, or broken text. */
export function bodyArb(
  keys: readonly string[],
  valid: readonly Record<string, unknown>[],
): fc.Arbitrary<string | undefined> {
  const fieldValue = fc.oneof(
    jsonValue,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string(),
  );
  const mutated = fc
    .tuple(
      fc.constantFrom(...valid),
      fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), fieldValue, {
        maxKeys: 4,
      }),
    )
    .map(([base, changes]) => JSON.stringify({ ...base, ...changes }));
  return fc.oneof(
    { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constantFrom(...valid).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(70_000)) },
  );
}

export const methodArb = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');

/** Fills `{param}` templates with arbitrary segments (sometimes the given valid values). */
export function pathArb(
  templates: readonly string[],
  valid: Record<string, readonly string[]>,
  prefix: string,
): fc.Arbitrary<string> {
  const filled = fc.constantFrom(...templates).chain((template) => {
    const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
    return fc
      .tuple(...names.map((n) => fc.oneof(segment, fc.constantFrom(...(valid[n] ?? ['x'])))))
      .map((values) => names.reduce((p, n, i) => p.replace(`{${n}}`, values[i] as string), template));
  });
  return fc.oneof(
    { weight: 8, arbitrary: filled },
    { weight: 1, arbitrary: segment.map((s) => `${prefix}/${s}`) },
  );
}

/** Requests from generated parts, with the JSON content type every API client sends. */
export function requestArb(parts: {
  readonly path: fc.Arbitrary<string>;
  readonly body: fc.Arbitrary<string | undefined>;
  readonly query: fc.Arbitrary<Record<string, string>>;
  readonly authorization: fc.Arbitrary<string>;
  readonly sourceIp: fc.Arbitrary<string | undefined>;
}): fc.Arbitrary<HttpRequest> {
  return fc.record({ method: methodArb, ...parts }).map(({ authorization, ...r }) => ({
    ...r,
    headers: { authorization, 'content-type': 'application/json' },
  }));
}

/**
 * Answers `numRuns` generated requests, each well behaved (below); then checks that the generators reached
 * both into validation (many 400s) and past it (some calls succeed).
 */
export async function fuzzApi(
  app: HttpApp,
  requests: fc.Arbitrary<HttpRequest>,
  numRuns = 3000,
): Promise<void> {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(requests, async (request) => {
      const status = await expectWellBehaved(app, request);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    { numRuns },
  );
  expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
  expect(statuses.get(400)).toBeGreaterThan(100);
}

/** The property every API must hold: no 5xx; every 4xx is JSON naming the problem and the field. */
export async function expectWellBehaved(app: HttpApp, req: HttpRequest): Promise<number> {
  const response = await app.handle(req);
  const where = `${req.method} ${req.path} ${String(req.body).slice(0, 120)}`;
  expect(response.status, where).toBeLessThan(500);
  if (response.status >= 400) {
    const json = JSON.parse(response.body as string) as {
      error?: unknown;
      message?: unknown;
      field?: unknown;
    };
    expect(typeof json.error, where).toBe('string');
    expect(typeof json.message, where).toBe('string');
    expect(typeof json.field, where).toBe('string');
    expect((json.field as string).length, where).toBeGreaterThan(0);
  }
  return response.status;
}
