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
  /** Set-Cookie values, one header each (a header map holds one): the session's per-stream playback cookies. */
  readonly cookies?: readonly string[];
  /**
   * A response written as it is produced (the operator events' Server-Sent Events, D44): `body` is then empty and
   * the transport writes these chunks until the iterable ends, never caching or buffering them.
   */
  readonly stream?: AsyncIterable<string>;
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
