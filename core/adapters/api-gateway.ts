import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { ORIGIN_VERIFY_HEADER, originVerified } from '../contracts/origin-verify.js';
import type { HttpRequest, HttpResponse } from '../http.js';

/**
 * The answer to a request that did not come through the distribution (decision D39), or undefined to go on.
 * `accepted` undefined means the check is off (the embedded default, whose edge is the only way in).
 */
export function refuseUnlessFromCloudFront(
  event: Pick<APIGatewayProxyEventV2, 'headers'>,
  accepted: readonly string[] | undefined,
): APIGatewayProxyResultV2 | undefined {
  if (accepted === undefined || originVerified(event.headers?.[ORIGIN_VERIFY_HEADER], accepted))
    return undefined;
  return {
    statusCode: 403,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      error: 'forbidden',
      field: ORIGIN_VERIFY_HEADER,
      message: 'this API answers requests through its CloudFront distribution only',
    }),
  };
}

/** API Gateway (HTTP API, payload 2.0) events in and results out, around the transport-neutral core. */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  // The origin secret stops here: the apps never see (or log) it.
  delete headers[ORIGIN_VERIFY_HEADER];
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
  // Payload 2.0 sends each of `cookies` as its own Set-Cookie header.
  const cookies = response.cookies ? { cookies: [...response.cookies] } : {};
  if (typeof response.body === 'string') {
    return { statusCode: response.status, headers: { ...response.headers }, body: response.body, ...cookies };
  }
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    ...cookies,
    body: Buffer.from(response.body).toString('base64'),
    isBase64Encoded: true,
  };
}
