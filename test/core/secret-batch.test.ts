import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSecret } from '../../core/adapters/runtime.js';
import { MAX_BATCH_IDS } from '../../core/adapters/secret-batch.js';
import { CREDENTIALS, type SignedCall, startSecretsManager } from '../support/secrets-manager.js';

// D48: reads made together become one BatchGetSecretValue, against a local server that checks every request's
// signature with the SDK's signer (test/support/secrets-manager.ts) and answers as the service does.

const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:mirror/${name}-AbCdEf`;
const SESSION = arn('session');
const ORIGIN = arn('origin');
const RING = arn('ring');
const MISSING = arn('missing');

/** What the service holds: a SecretString per ARN (others answer ResourceNotFoundException). */
const store = new Map<string, string>([
  [SESSION, JSON.stringify({ secret: 's'.repeat(64) })],
  [ORIGIN, JSON.stringify({ current: 'o'.repeat(40) })],
  [RING, JSON.stringify({ version: 3, keys: [] })],
]);
for (let i = 0; i < 25; i++) store.set(arn(`many-${i}`), `value-${i}`);

const calls: SignedCall[] = [];
/** Status and body of the next answers, before the store's. */
const script: [number, unknown][] = [];

function answer(call: SignedCall): [number, unknown] {
  calls.push(call);
  const next = script.shift();
  if (next) return next;
  if (call.operation === 'GetSecretValue') {
    const id = String(call.input.SecretId);
    const value = store.get(id);
    return value === undefined
      ? [
          400,
          {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          },
        ]
      : [200, { ARN: id, Name: id.split(':').pop(), SecretString: value }];
  }
  const ids = call.input.SecretIdList as string[];
  // A partial ARN (no random suffix) names the secret; the answer gives its full ARN, as the service does.
  const full = (id: string) => (store.has(id) ? id : `${id}-AbCdEf`);
  return [
    200,
    {
      SecretValues: ids
        .filter((id) => store.has(full(id)))
        .map((id) => ({ ARN: full(id), Name: id.split(':').pop(), SecretString: store.get(full(id)) })),
      Errors: ids
        .filter((id) => !store.has(full(id)))
        .map((id) => ({
          SecretId: id,
          ErrorCode: 'ResourceNotFoundException',
          Message: "Secrets Manager can't find the specified secret.",
        })),
    },
  ];
}

describe('secret reads issued together (BatchGetSecretValue)', () => {
  let server: Server;
  beforeAll(async () => {
    const started = await startSecretsManager(answer);
    server = started.server;
    vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', CREDENTIALS.sessionToken);
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', started.endpoint);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    calls.length = 0;
    script.length = 0;
  });

  it('sends the reads of one turn as one signed request, each caller getting its own value', async () => {
    const [session, origin, ring, again] = await Promise.all([
      readSecret(SESSION, 'secret'),
      readSecret(ORIGIN),
      readSecret(RING),
      readSecret(SESSION),
    ]);
    expect(calls).toEqual([
      { operation: 'BatchGetSecretValue', input: { SecretIdList: [SESSION, ORIGIN, RING] } },
    ]);
    expect(session).toBe('s'.repeat(64));
    expect(JSON.parse(origin)).toEqual({ current: 'o'.repeat(40) });
    expect(JSON.parse(ring)).toMatchObject({ version: 3 });
    expect(JSON.parse(again)).toEqual({ secret: 's'.repeat(64) });
  });

  it("rejects only the caller whose secret the answer lists in Errors, with the service's ErrorCode", async () => {
    const results = await Promise.allSettled([readSecret(SESSION, 'secret'), readSecret(MISSING)]);
    expect(calls).toHaveLength(1);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 's'.repeat(64) });
    expect(results[1]).toMatchObject({ status: 'rejected' });
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(
      /BatchGetSecretValue: ResourceNotFoundException: Secrets Manager can't find/,
    );
  });

  it('matches a secret named by its partial ARN to the full ARN the answer gives', async () => {
    const partial = SESSION.replace(/-AbCdEf$/, '');
    expect(await Promise.all([readSecret(partial, 'secret'), readSecret(ORIGIN)])).toEqual([
      's'.repeat(64),
      store.get(ORIGIN),
    ]);
    expect(calls).toEqual([{ operation: 'BatchGetSecretValue', input: { SecretIdList: [partial, ORIGIN] } }]);
  });

  it('rejects a caller whose secret the answer leaves out', async () => {
    script.push([200, { SecretValues: [{ ARN: SESSION, SecretString: store.get(SESSION) }], Errors: [] }]);
    const results = await Promise.allSettled([readSecret(SESSION, 'secret'), readSecret(ORIGIN)]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain(
      `no value nor error for ${ORIGIN}`,
    );
  });

  it('retries the whole batch on a 5xx and throttling; a per-secret throttle retries that secret alone', async () => {
    script.push([500, { __type: 'InternalServiceError', message: 'try again' }]);
    script.push([400, { __type: 'ThrottlingException', message: 'Rate exceeded' }]);
    expect(await Promise.all([readSecret(SESSION, 'secret'), readSecret(ORIGIN)])).toHaveLength(2);
    expect(calls.map((c) => c.input.SecretIdList)).toEqual([
      [SESSION, ORIGIN],
      [SESSION, ORIGIN],
      [SESSION, ORIGIN],
    ]);
    calls.length = 0;
    script.push([
      200,
      {
        SecretValues: [{ ARN: SESSION, SecretString: store.get(SESSION) }],
        Errors: [{ SecretId: ORIGIN, ErrorCode: 'ThrottlingException', Message: 'Rate exceeded' }],
      },
    ]);
    expect(
      JSON.parse(await Promise.all([readSecret(SESSION), readSecret(ORIGIN)]).then((v) => v[1])),
    ).toEqual({
      current: 'o'.repeat(40),
    });
    expect(calls.map((c) => c.input.SecretIdList)).toEqual([[SESSION, ORIGIN], [ORIGIN]]);
  });

  it('keeps a lone read (and a read in a later turn) a GetSecretValue', async () => {
    expect(await readSecret(SESSION, 'secret')).toBe('s'.repeat(64));
    const first = readSecret(ORIGIN);
    await new Promise((resolve) => setImmediate(resolve));
    const second = readSecret(RING);
    await Promise.all([first, second]);
    expect(calls.map((c) => c.operation)).toEqual(['GetSecretValue', 'GetSecretValue', 'GetSecretValue']);
    expect(calls[0]!.input).toEqual({ SecretId: SESSION });
  });

  it(`splits more than ${MAX_BATCH_IDS} ids into several requests`, async () => {
    const ids = Array.from({ length: 25 }, (_, i) => arn(`many-${i}`));
    const values = await Promise.all(ids.map((id) => readSecret(id)));
    expect(values).toEqual(ids.map((_, i) => `value-${i}`));
    expect(calls.map((c) => (c.input.SecretIdList as string[]).length)).toEqual([MAX_BATCH_IDS, 5]);
    expect(calls.flatMap((c) => c.input.SecretIdList as string[])).toEqual(ids);
  });

  it('falls back to one GetSecretValue per secret when the role may not BatchGetSecretValue', async () => {
    script.push([
      400,
      { __type: 'AccessDeniedException', message: 'not authorized to perform BatchGetSecretValue' },
    ]);
    const [session, origin] = await Promise.all([readSecret(SESSION, 'secret'), readSecret(ORIGIN)]);
    expect(session).toBe('s'.repeat(64));
    expect(JSON.parse(origin)).toEqual({ current: 'o'.repeat(40) });
    expect(calls.map((c) => c.operation).sort()).toEqual([
      'BatchGetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
    ]);
  });

  it('fails every caller of a batch the service refuses as a whole, once, named', async () => {
    script.push([400, { __type: 'InvalidParameterException', message: 'bad list' }]);
    const results = await Promise.allSettled([readSecret(SESSION), readSecret(ORIGIN)]);
    expect(calls).toHaveLength(1);
    for (const result of results) {
      expect(String((result as PromiseRejectedResult).reason)).toMatch(
        /BatchGetSecretValue: InvalidParameterException: bad list/,
      );
    }
  });
});
