import {
  ATTEMPTS,
  type AwsCredentials,
  backoff,
  getSecretStringSigned,
  isRetryable,
  postSigned,
  SecretReadError,
  type SignedReadOptions,
  secretLocation,
  signSecretsManager,
} from './secrets.js';

/**
 * Secret reads issued together, sent as one request (decision D48). A cold session reads four secrets at once:
 * as GetSecretValue each was a connection (on AWS a TLS handshake) of its own, about
 * 2 ms of CPU each here and a full handshake's on Lambda. Reads made in the same turn of the event loop (a module's
 * top level, the callbacks of one promise chain) are held until the next macrotask (setImmediate) and then sent as
 * Secrets Manager's BatchGetSecretValue, at most 20 ids a request; a read alone stays a GetSecretValue, so the key
 * ring's periodic re-read is unchanged. Each caller gets its own value or its own error. Bounded: what is held is
 * one turn's callers, each awaiting its promise; nothing outlives the flush.
 */

/** BatchGetSecretValue takes at most 20 ids in SecretIdList. */
export const MAX_BATCH_IDS = 20;

/** One secret's result in a batch: its SecretString (absent for a binary secret), or why it has none. */
export type SecretOutcome = { readonly value: string | undefined } | { readonly error: Error };

interface BatchAnswer {
  readonly SecretValues?: readonly { ARN?: string; Name?: string; SecretString?: string }[];
  readonly Errors?: readonly { SecretId?: string; ErrorCode?: string; Message?: string }[];
}

/** Per-secret ErrorCodes worth another attempt (the service's own trouble, not the secret's). */
const RETRYABLE_CODE = /Throttl|InternalServiceError|ServiceUnavailable/;

/**
 * BatchGetSecretValue of `ids` (one region, at most MAX_BATCH_IDS), one outcome per id. A failure of the whole
 * request (throttling, 5xx, network) retries the whole batch, a retryable per-secret error retries that secret,
 * each up to ATTEMPTS; a refusal of the batch action itself (AccessDeniedException: a role granted GetSecretValue
 * only) falls back to one GetSecretValue per secret, as before D48.
 */
export async function batchGetSecretStrings(
  ids: readonly string[],
  credentials: AwsCredentials,
  options: SignedReadOptions = {},
): Promise<Map<string, SecretOutcome>> {
  if (ids.length === 0 || ids.length > MAX_BATCH_IDS) {
    throw new Error(`BatchGetSecretValue takes 1 to ${MAX_BATCH_IDS} ids, not ${ids.length}`);
  }
  const { region, endpoint } = secretLocation(ids[0]!);
  const url = new URL(options.endpoint ?? endpoint);
  const outcomes = new Map<string, SecretOutcome>();
  let remaining = [...new Set(ids)];
  for (let attempt = 1; ; attempt++) {
    try {
      const signed = signSecretsManager(
        'BatchGetSecretValue',
        { SecretIdList: remaining },
        url.host,
        region,
        credentials,
        options.now?.(),
      );
      const answer = JSON.parse(await postSigned(url, signed, 'BatchGetSecretValue')) as BatchAnswer;
      for (const id of remaining) outcomes.set(id, outcomeOf(answer, id));
      remaining = remaining.filter((id) => {
        const outcome = outcomes.get(id)!;
        return 'error' in outcome && isRetryable(outcome.error);
      });
      if (remaining.length === 0 || attempt >= ATTEMPTS) return outcomes;
    } catch (error) {
      if (error instanceof SecretReadError && error.code === 'AccessDeniedException') {
        return oneByOne(remaining, credentials, options, outcomes);
      }
      if (!isRetryable(error) || attempt >= ATTEMPTS) {
        for (const id of remaining) outcomes.set(id, { error: asError(error) });
        return outcomes;
      }
    }
    await backoff(attempt);
  }
}

/** The answer's entry for `id`: its value, its error, or an error saying the service left it out. */
function outcomeOf(answer: BatchAnswer, id: string): SecretOutcome {
  const entry = answer.SecretValues?.find((v) => names(id, v.ARN, v.Name));
  if (entry) return { value: entry.SecretString };
  const failed = answer.Errors?.find((e) => e.SecretId !== undefined && names(id, e.SecretId, e.SecretId));
  if (failed) {
    const code = failed.ErrorCode ?? 'UnknownError';
    return {
      error: new SecretReadError(
        `Secrets Manager BatchGetSecretValue: ${code}${failed.Message ? `: ${failed.Message}` : ''}`,
        RETRYABLE_CODE.test(code),
        code,
      ),
    };
  }
  return {
    error: new SecretReadError(`Secrets Manager BatchGetSecretValue: no value nor error for ${id}`, false),
  };
}

/** Whether `id` (an ARN, partial ARN or name) is the secret with this ARN or name. */
function names(id: string, arn: string | undefined, name: string | undefined): boolean {
  if (id === arn || id === name) return true;
  // A partial ARN (without the six random characters Secrets Manager appends) names the same secret.
  return arn !== undefined && arn.length === id.length + 7 && arn.startsWith(`${id}-`);
}

async function oneByOne(
  ids: readonly string[],
  credentials: AwsCredentials,
  options: SignedReadOptions,
  outcomes: Map<string, SecretOutcome>,
): Promise<Map<string, SecretOutcome>> {
  await Promise.all(
    ids.map((id) =>
      getSecretStringSigned(id, credentials, options).then(
        (value) => outcomes.set(id, { value }),
        (error: unknown) => outcomes.set(id, { error: asError(error) }),
      ),
    ),
  );
  return outcomes;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

interface Waiter {
  readonly resolve: (value: string | undefined) => void;
  readonly reject: (error: Error) => void;
}

/** Reads held until the flush, by destination (endpoint, region, credentials), then by secret id. */
interface Group {
  readonly credentials: AwsCredentials;
  readonly options: SignedReadOptions;
  readonly waiters: Map<string, Waiter[]>;
}

const held = new Map<string, Group>();
let flushScheduled = false;

/**
 * A secret's SecretString, read together with every other read made in the same turn of the event loop: one
 * BatchGetSecretValue per destination and 20 ids, or GetSecretValue for a lone id. Same retries and errors as
 * getSecretStringSigned; several reads of one id share its answer.
 */
export function readSecretStringCoalesced(
  arn: string,
  credentials: AwsCredentials,
  options: SignedReadOptions = {},
): Promise<string | undefined> {
  const { region, endpoint } = secretLocation(arn);
  const key = [options.endpoint ?? endpoint, region, credentials.accessKeyId].join('\n');
  let group = held.get(key);
  if (!group) {
    group = { credentials, options, waiters: new Map() };
    held.set(key, group);
  }
  const waiters = group.waiters.get(arn) ?? [];
  group.waiters.set(arn, waiters);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
  return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
}

function flush(): void {
  flushScheduled = false;
  const groups = [...held.values()];
  held.clear();
  for (const group of groups) {
    const ids = [...group.waiters.keys()];
    for (let i = 0; i < ids.length; i += MAX_BATCH_IDS) void send(ids.slice(i, i + MAX_BATCH_IDS), group);
  }
}

async function send(ids: readonly string[], group: Group): Promise<void> {
  const settle = (id: string, outcome: SecretOutcome) => {
    for (const waiter of group.waiters.get(id) ?? []) {
      if ('error' in outcome) waiter.reject(outcome.error);
      else waiter.resolve(outcome.value);
    }
  };
  if (ids.length === 1) {
    const id = ids[0]!;
    await getSecretStringSigned(id, group.credentials, group.options).then(
      (value) => settle(id, { value }),
      (error: unknown) => settle(id, { error: asError(error) }),
    );
    return;
  }
  let outcomes: Map<string, SecretOutcome>;
  try {
    outcomes = await batchGetSecretStrings(ids, group.credentials, group.options);
  } catch (error) {
    outcomes = new Map(ids.map((id) => [id, { error: asError(error) }]));
  }
  for (const id of ids) settle(id, outcomes.get(id) ?? { error: new Error(`secret ${id}: no outcome`) });
}
