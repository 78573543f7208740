import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { HttpApp } from '../../core/http.js';
import type { createControlApp } from '../../functions/control/app.js';
import type { createSessionApp } from '../../functions/session/app.js';
import { sessionApp } from '../session/helpers.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, controlApp, request } from './helpers.js';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { operationId: string; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }
    >
  >;
};

const SAMPLE_PARAMS: Record<string, string> = { streamId: 'no-such-stream', sessionId: 'AAAAAAAAAAAAAAAA' };

describe('OpenAPI documents match the handlers', () => {
  let control: ReturnType<typeof createControlApp>;
  let session: ReturnType<typeof createSessionApp>;

  useRedisServer((_server, redis) => {
    control = controlApp(redis);
    session = sessionApp(redis);
  });

  const served = async (app: HttpApp, path: string) =>
    (await call(app, request('GET', path, undefined, {}))).json as Doc;

  it('docs/ holds the current documents', () => {
    // The script exits 1 when a regenerated document differs from the file in docs/.
    execFileSync('npx', ['tsx', 'scripts/write-openapi.ts', '--check'], { stdio: 'pipe' });
  });

  for (const [name, path] of [
    ['control', '/api/control/openapi.json'],
    ['session', '/api/sessions/openapi.json'],
  ] as const) {
    it(`${name}: every documented operation is served, every route is documented, bodies are strict`, async () => {
      const app = name === 'control' ? control : session;
      const doc = await served(app, path);
      expect(doc.openapi).toBe('3.1.0');
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path: p, method: method.toUpperCase(), op })),
      );
      expect(documented.map((d) => `${d.method} ${d.path}`).sort()).toEqual(
        app.routes.map((r) => `${r.method} ${r.path}`).sort(),
      );
      for (const { path: template, method, op } of documented) {
        const concrete = template.replace(/\{(\w+)\}/g, (_, p: string) => SAMPLE_PARAMS[p] ?? 'x');
        // An unknown field in the body: the router must know this route (no 404 'path' / 405) and refuse it.
        const body = op.requestBody ? { zzUnknown: 1 } : undefined;
        const r = await call(app, { ...request(method, concrete, body), sourceIp: '10.9.9.9' });
        expect(r.json?.field, `${method} ${concrete}`).not.toBe('path');
        expect(r.status, `${method} ${concrete}`).not.toBe(405);
        expect(r.status, `${method} ${concrete}`).toBeLessThan(500);
        if (op.requestBody) {
          const schema = op.requestBody.content['application/json']?.schema as Record<string, unknown>;
          expect(schema.additionalProperties, `${op.operationId} is strict`).toBe(false);
          // Refused: for the unknown field, or first for a required one it lacks.
          expect(r.status, `${method} ${concrete}`).toBe(400);
          expect(['zzUnknown', 'body', ...((schema.required as string[]) ?? [])]).toContain(r.json.field);
        }
      }
    });
  }
});
