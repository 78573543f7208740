import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/**
 * Transport-neutral request/response used by every handler core, so the same code answers
 * API Gateway / function URL events on AWS and direct calls from the local edge.
 */
export interface HttpRequest {
  readonly method: string;
  /** Path without query string, starting with '/'. */
  readonly path: string;
  /** Decoded query parameters (last value wins). */
  readonly query: Readonly<Record<string, string>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly sourceIp?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

export interface HttpApp {
  /** `signal` aborts when the client goes away (a held blocking request can stop waiting). */
  handle(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse>;
}

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

/** Client errors name the field at fault: `{ error: 'invalid_request', field: 'layout', message: '...' }`. */
export function errorResponse(status: number, error: string, message: string, field?: string): HttpResponse {
  return jsonResponse(status, field === undefined ? { error, message } : { error, field, message });
}

export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query,
    headers,
    body,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

export function toApiGatewayResult(response: HttpResponse): APIGatewayProxyResultV2 {
  if (typeof response.body === 'string') {
    return { statusCode: response.status, headers: { ...response.headers }, body: response.body };
  }
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    body: Buffer.from(response.body).toString('base64'),
    isBase64Encoded: true,
  };
}
