// The control API client: /api/control with the control token, or the Cognito apiBase with the access token.
import { CONTROL_PATH } from '../../../core/contracts/api-paths.js';
import type { OperatorAuthConfig } from '../operator-auth.js';
import { authorization, forgetRefused } from './sign-in.js';

export class ApiFailure extends Error {}

/** The API refused the credential: the page is already asking for a new one, so there is nothing to show. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiFailure && error.message === 'unauthorized';
}

/**
 * One call: the JSON answer, undefined for 204; an ApiFailure with the API's message otherwise. `credential` serves
 * the live updates (operator/live-updates.ts, D44), which read their stream outside this client.
 */
export type Api = (<T>(method: string, path: string, body?: unknown) => Promise<T>) & {
  /** `Bearer <token>` as the API calls send it. */
  readonly credential?: () => string;
};

/** An operator action from the page: API calls, then the dashboard refreshes; a failure shows in the banner. */
export type Act = (run: () => Promise<void>) => Promise<void>;

/** The client; on a 401 it forgets the refused credential and calls `onRefused` (sign in again). */
export function createApi(cognito: OperatorAuthConfig | undefined, onRefused: () => void): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${cognito?.apiBase ?? CONTROL_PATH}${path}`, {
      method,
      headers: {
        authorization: authorization(cognito),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      forgetRefused(cognito);
      onRefused();
      throw new ApiFailure('unauthorized');
    }
    if (response.status === 204) return undefined as T;
    const json = (await response.json()) as T & { message?: string; field?: string };
    if (!response.ok)
      throw new ApiFailure(
        json.field ? `${json.field}: ${json.message}` : (json.message ?? String(response.status)),
      );
    return json;
  };
  return Object.assign(call, { credential: () => authorization(cognito) });
}
