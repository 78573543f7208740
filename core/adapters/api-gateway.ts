import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../http.js';

/** API Gateway (HTTP API, payload 2.0) events in and results out, around the transport-neutral core. */
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
