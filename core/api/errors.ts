/**
 * The typed error vocabulary of the domain modules (stream registry, session store, the control API's AWS
 * ports). They say what went wrong and which input is at fault; only the API edge (`toApiError` in
 * router.ts) turns a code into an HTTP status.
 */
export type FailureCode = 'invalid' | 'not_found' | 'conflict' | 'upstream_error' | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    /** The request field at fault, when one is. */
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A call to another service failed or answered something unusable (AWS on the control API). */
export class UpstreamError extends DomainError {
  constructor(message: string, options?: ErrorOptions) {
    super('upstream_error', message, undefined, options);
  }
}

/** Seconds a client should wait before retrying after an UnavailableError (the Retry-After header). */
export const UNAVAILABLE_RETRY_AFTER_S = 1;

/**
 * A store the call needs (Redis) is unreachable, timed out or is failing over: nothing is wrong with the request,
 * and the same call is likely to succeed in a second or two. Answered 503 with Retry-After, never 500.
 */
export class UnavailableError extends DomainError {
  constructor(
    message: string,
    options?: ErrorOptions,
    readonly retryAfterS: number = UNAVAILABLE_RETRY_AFTER_S,
  ) {
    super('unavailable', message, undefined, options);
  }
}
