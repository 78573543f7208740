import { jsonResponse } from '../http.js';
import * as z from '../zod.js';
import { type AnyRoute, type RouteSpec, route, type SchemaRef, schemaOf } from './router.js';

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  /** Security scheme for non-public routes, or none. */
  readonly security?: { readonly name: string; readonly scheme: Record<string, unknown> };
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'Machine-readable code, e.g. invalid_request.' },
    field: { type: 'string', description: 'The request field at fault.' },
    message: { type: 'string' },
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request; `field` names the input at fault',
  401: 'Missing or wrong credential',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict, or not configured here',
  413: 'Request body too large',
  429: 'Rate limited; see Retry-After',
  502: 'An AWS call failed',
  503: 'The live state store (Redis) is unreachable or failing over; retry after Retry-After seconds',
};

function jsonSchemaOf(schema: SchemaRef, io: 'input' | 'output') {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schemaOf(schema), {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** An OpenAPI 3.1 document (JSON Schema 2020-12 dialect) generated from a route table's zod schemas. */
export function buildOpenApi(routes: readonly AnyRoute[], info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [name, schema] of Object.entries(r.params ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: jsonSchemaOf(schema, 'input') });
    }
    if (r.query) {
      const json = jsonSchemaOf(r.query, 'input') as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: 'query', required: json.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {
      [String(r.response.status)]: r.response.schema
        ? {
            description: r.response.description,
            content: { 'application/json': { schema: jsonSchemaOf(r.response.schema, 'output') } },
          }
        : { description: r.response.description },
    };
    // 503: any call may meet Redis unreachable or failing over (answered with Retry-After, never a 500).
    const errors = new Set<number>([400, 503, ...(r.errors ?? [])]);
    if (!r.public && info.security) errors.add(401);
    for (const status of [...errors].sort()) {
      responses[String(status)] = {
        description: STATUS_TEXT[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      parameters,
      responses,
    };
    if (r.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchemaOf(r.body, 'input') } },
      };
    }
    if (info.security) operation.security = r.public ? [] : [{ [info.security.name]: [] }];
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      ...(info.security ? { securitySchemes: { [info.security.name]: info.security.scheme } } : {}),
    },
  };
}

/**
 * GET `path`: the OpenAPI document of the route table this route is part of. `build` runs on the first call,
 * when the table is complete, and its document is kept. It generates the document, or reads the one shipped beside
 * a Lambda bundle (functions/control/app.ts, functions/session/app.ts).
 */
export function openApiRoute(
  spec: Pick<RouteSpec, 'path' | 'operationId' | 'public'>,
  build: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): AnyRoute {
  let document: Record<string, unknown> | undefined;
  return route({
    method: 'GET',
    ...spec,
    summary: 'This API as an OpenAPI 3.1 document',
    response: { status: 200, description: 'OpenAPI document' },
    handle: async () => {
      document ??= await build();
      return jsonResponse(200, document, { 'cache-control': 'max-age=300' });
    },
  });
}
