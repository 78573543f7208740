import { errorResponse, type HttpRequest, type HttpResponse } from '../http.js';
import type * as z from '../zod.js';
import { DomainError, type FailureCode, UnavailableError } from './errors.js';

/**
 * A small declarative router shared by the control and session functions. The same route table drives
 * dispatch, request validation (zod, strict objects) and the OpenAPI document, so they cannot drift apart.
 */

/** A client error naming the field at fault; turned into a 4xx only at the edge (`respond`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RouteContext<B, Q> {
  readonly request: HttpRequest;
  readonly params: Readonly<Record<string, string>>;
  readonly body: B;
  readonly query: Q;
  /** Who called (set by the app's authenticate step); 'anonymous' on public routes. */
  readonly principal: string;
}

/**
 * A route's schema, or a memoised factory of it (`z.once`, decision D48): a factory is called on the first request
 * that matches the route (or the first OpenAPI generation), so composing the route table at cold start builds no
 * schema. A factory must return the same schema every call.
 */
export type SchemaRef<T = unknown> = z.ZodMiniType<T> | (() => z.ZodMiniType<T>);

/** The schema a SchemaRef names, built now if it is a factory. */
export function schemaOf<T>(ref: SchemaRef<T>): z.ZodMiniType<T> {
  return typeof ref === 'function' ? ref() : ref;
}

export interface RouteSpec<B = unknown, Q = unknown> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI-style template, e.g. `/api/control/streams/{streamId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** Public routes skip authentication (the OpenAPI document marks the others as secured). */
  readonly public?: boolean;
  readonly params?: Readonly<Record<string, SchemaRef<string>>>;
  readonly body?: SchemaRef<B>;
  readonly query?: SchemaRef<Q>;
  /** Success status and the schema of its body, for the OpenAPI document. */
  readonly response: {
    readonly status: number;
    readonly description: string;
    readonly schema?: SchemaRef;
  };
  /** Error statuses this route can answer besides 400, for the OpenAPI document. */
  readonly errors?: readonly number[];
  readonly handle: (context: RouteContext<B, Q>) => Promise<HttpResponse>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous route table
export type AnyRoute = RouteSpec<any, any>;

export function route<B = undefined, Q = Record<string, never>>(spec: RouteSpec<B, Q>): AnyRoute {
  return spec as AnyRoute;
}

/** Request bodies above this are refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

interface Compiled {
  readonly route: AnyRoute;
  readonly pattern: RegExp;
  readonly names: string[];
}

export interface Router {
  readonly routes: readonly AnyRoute[];
  dispatch(request: HttpRequest, principal: (route: AnyRoute) => Promise<string>): Promise<HttpResponse>;
}

export function createRouter(routes: readonly AnyRoute[]): Router {
  const compiled: Compiled[] = routes.map((r) => {
    const names: string[] = [];
    const source = r.path
      .split('/')
      .map((part) => {
        const m = /^\{(\w+)\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1] as string);
        return '([^/]+)';
      })
      .join('/');
    return { route: r, pattern: new RegExp(`^${source}/?$`), names };
  });

  return {
    routes,
    async dispatch(request, principalFor) {
      try {
        const matches = compiled.flatMap((c) => {
          const m = c.pattern.exec(request.path);
          return m ? [{ c, m }] : [];
        });
        if (matches.length === 0)
          throw new ApiError(404, 'not_found', `no route for ${safe(request.path)}`, 'path');
        const hit = matches.find(({ c }) => c.route.method === request.method);
        if (!hit) {
          const allowed = [...new Set(matches.map(({ c }) => c.route.method))].join(', ');
          throw new ApiError(405, 'method_not_allowed', `use ${allowed}`, 'method', { allow: allowed });
        }
        const { c, m } = hit;
        const principal = await principalFor(c.route);
        const params: Record<string, string> = {};
        c.names.forEach((name, i) => {
          let value: string;
          try {
            value = decodeURIComponent(m[i + 1] as string);
          } catch {
            throw new ApiError(400, 'invalid_request', `${name} is not valid percent-encoding`, name);
          }
          const schema = c.route.params?.[name];
          if (schema) {
            const parsed = schemaOf(schema).safeParse(value);
            if (!parsed.success) throw invalid(parsed.error, name);
          }
          params[name] = value;
        });
        const query = c.route.query ? validate(c.route.query, request.query, 'query') : {};
        const body = c.route.body ? validate(c.route.body, parseBody(request.body), 'body') : undefined;
        if (
          !c.route.body &&
          request.body !== undefined &&
          request.body.trim() !== '' &&
          request.method !== 'GET'
        ) {
          throw new ApiError(400, 'invalid_request', 'this operation takes no request body', 'body');
        }
        return await c.route.handle({ request, params, body, query, principal });
      } catch (error) {
        if (error instanceof ApiError) return respondError(error);
        throw error;
      }
    },
  };
}

export function respondError(error: ApiError): HttpResponse {
  const response = errorResponse(error.status, error.code, error.message, error.field);
  return { ...response, headers: { ...response.headers, ...error.headers } };
}

/** The one mapping from the domain's typed errors to HTTP statuses, for every API. */
const STATUS_OF: Readonly<Record<FailureCode, number>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  // An AWS call failed: the one 5xx the control API gives on purpose.
  upstream_error: 502,
  // Redis unreachable or failing over: nothing wrong with the request; the client retries after Retry-After.
  unavailable: 503,
};

/** A typed error as the API answers it (its code and field kept), or undefined for an unexpected error. */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError) {
    const headers: Record<string, string> =
      error instanceof UnavailableError ? { 'retry-after': String(error.retryAfterS) } : {};
    return new ApiError(STATUS_OF[error.code], error.code, error.message, error.field, headers);
  }
  return undefined;
}

/**
 * The answer to whatever a call threw: a typed error by the mapping above; anything else a 500 whose details
 * stay in the log (`unexpected` is told the error's name only: its text may quote input).
 */
export function respondToFailure(error: unknown, unexpected: (errorName: string) => void): HttpResponse {
  const known = toApiError(error);
  if (known) return respondError(known);
  unexpected(errorName(error));
  return respondError(new ApiError(500, 'internal_error', 'unexpected error; see the function log'));
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function parseBody(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') {
    throw new ApiError(400, 'invalid_request', 'a JSON request body is required', 'body');
  }
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
    throw new ApiError(413, 'payload_too_large', `request body is over ${MAX_BODY_BYTES} bytes`, 'body');
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError(400, 'invalid_request', 'request body is not valid JSON', 'body');
  }
}

function validate<T>(schema: SchemaRef<T>, value: unknown, where: 'body' | 'query'): T {
  const parsed = schemaOf(schema).safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(parsed.error, where);
}

/** The first zod issue as a 400 naming the field (`tiles.2.streamId`, or the unknown key itself). */
export function invalid(error: z.core.$ZodError, fallback: string): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError(400, 'invalid_request', 'invalid input', fallback);
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = [...path, key].join('.') || fallback;
    return new ApiError(400, 'invalid_request', `${field}: unknown field`, field);
  }
  const field = path.join('.') || fallback;
  return new ApiError(400, 'invalid_request', `${field}: ${issue.message}`, field);
}

/** Paths echoed in errors are clipped and stripped of control characters. */
function safe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}
