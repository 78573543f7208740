/**
 * The API path prefixes, one source for API Gateway's routes (infra/constructs/api), the control function's
 * operator mapping, the local edge and the web app. CloudFront's `/api/*` behaviour (core/contracts/delivery.ts)
 * forwards them to the HTTP API unchanged. A module of its own, so the web bundle takes these lines only.
 */

/** Everything below it goes to the HTTP API. */
export const API_PREFIX = '/api';
/** The control API for tools signing with IAM (and locally with the control token). */
export const CONTROL_PATH = `${API_PREFIX}/control`;
/** The same control API for the operator page, authorised by the operators' Cognito tokens (decision D12). */
export const OPERATOR_PATH = `${API_PREFIX}/operator`;
/**
 * The operator page's live updates (Server-Sent Events, decision D44): its own CloudFront behaviour and origin (a
 * Lambda function URL in response-streaming mode), ahead of `/api/*`, which API Gateway fronts and which buffers.
 */
export const OPERATOR_EVENTS_PATH = `${OPERATOR_PATH}/events`;
/**
 * The header the events request carries its credential in (`Bearer <Cognito access token>`, or the control token in
 * the embedded default). Not `Authorization`: CloudFront's origin access control signs the request to the function
 * URL with SigV4 in that header, replacing what the page sent.
 */
export const OPERATOR_EVENTS_AUTH_HEADER = 'x-mirror-authorization';
/** The viewers' session API. */
export const SESSIONS_PATH = `${API_PREFIX}/sessions`;
/** The public stream list: the same for every viewer, so the edge caches it (decision D27). */
export const STREAM_LIST_PATH = `${SESSIONS_PATH}/streams`;

/** True for the prefix itself and anything below it (`/api/control`, `/api/control/streams`), not `/api/controls`. */
export function isUnderPath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}
