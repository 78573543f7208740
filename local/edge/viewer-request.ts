import type { HttpRequest, HttpResponse } from '../../core/http.js';
import {
  type CfHandler,
  type CfRequest,
  isCfResponse,
  type KeyValueLookup,
  LOCAL_KVS_ID,
  loadPlaybackFunction,
} from '../../core/sessions/playback-runner.js';

/**
 * A viewer-request function of the local edge, as CloudFront runs one: before the cache lookup, it either
 * passes the (possibly changed) request on or answers itself, and that answer goes to the viewer as is.
 */
export type ViewerRequestFunction = (request: HttpRequest) => Promise<HttpRequest | HttpResponse>;

export function isViewerResponse(result: HttpRequest | HttpResponse): result is HttpResponse {
  return typeof (result as HttpResponse).status === 'number';
}

/**
 * Playback protection at the local edge: the CloudFront Function's own source (playback-function.ts, run by
 * playback-runner.ts), its KeyValueStore answered by `store` (the local key ring's store, local/playback-keys.ts).
 */
export function playbackViewerRequest(store: KeyValueLookup): ViewerRequestFunction {
  return cloudFrontViewerRequest(loadPlaybackFunction(store, LOCAL_KVS_ID));
}

let requestCounter = 0;

/** Adapts a CloudFront Functions handler to the edge's requests: the event in, the request or answer out. */
export function cloudFrontViewerRequest(handler: CfHandler): ViewerRequestFunction {
  return async (request) => {
    const cf = toCfRequest(request);
    const result = await handler({
      version: '1.0',
      context: { eventType: 'viewer-request', distributionId: 'LOCAL', requestId: String(++requestCounter) },
      viewer: { ip: request.sourceIp ?? '127.0.0.1' },
      request: cf,
    });
    if (isCfResponse(result)) {
      const headers: Record<string, string> = {};
      for (const [name, { value }] of Object.entries(result.headers ?? {}))
        headers[name.toLowerCase()] = value;
      const body =
        result.body === undefined
          ? ''
          : typeof result.body === 'string'
            ? result.body
            : result.body.encoding === 'base64'
              ? new Uint8Array(Buffer.from(result.body.data, 'base64'))
              : result.body.data;
      return { status: result.statusCode, headers, body };
    }
    return fromCfRequest(request, result);
  };
}

/** CloudFront hands the function cookies parsed and apart from the headers, the query string parsed. */
function toCfRequest(request: HttpRequest): CfRequest {
  const headers: CfRequest['headers'] = {};
  const cookies: CfRequest['cookies'] = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name !== 'cookie') {
      headers[name] = { value };
      continue;
    }
    for (const pair of value.split(';')) {
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const cookieName = pair.slice(0, at).trim();
      if (cookieName && cookies[cookieName] === undefined)
        cookies[cookieName] = { value: pair.slice(at + 1).trim() };
    }
  }
  const querystring: CfRequest['querystring'] = {};
  for (const [name, value] of Object.entries(request.query)) querystring[name] = { value };
  return { method: request.method, uri: request.path, querystring, headers, cookies };
}

/** The request as the function left it: its uri, query string, headers and cookies go on. */
function fromCfRequest(original: HttpRequest, cf: CfRequest): HttpRequest {
  const query: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(cf.querystring ?? {})) query[name] = value;
  const headers: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(cf.headers ?? {})) headers[name.toLowerCase()] = value;
  const cookies = Object.entries(cf.cookies ?? {}).map(([name, { value }]) => `${name}=${value}`);
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  return { ...original, path: cf.uri, query, headers };
}
