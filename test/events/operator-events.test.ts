import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwksKeys } from '../../core/auth/keys.js';
import { operatorTokenVerifier } from '../../core/auth/operator-token.js';
import {
  alarmTransition,
  EventQueue,
  parseOperatorEvent,
  recordingEvent,
  sseFrame,
} from '../../core/events/operator-events.js';
import { applyStatus, mergeFetched, retryDelayMs } from '../../web/src/operator/live-updates.js';
import type { Stream } from '../../web/src/operator/model.js';
import { sseParser } from '../../web/src/operator/sse.js';

// Decision D44: the pure parts of the live updates: events, the bounded queue, the page's SSE reader and merge
// rules, and the Cognito access-token check the events function does in place of API Gateway's JWT authorizer.

describe('operator events', () => {
  it('parses what the publishers send and drops anything else', () => {
    expect(parseOperatorEvent(recordingEvent('cam-1', 'cam-1~b1', 'complete'))).toEqual({
      type: 'recording',
      streamId: 'cam-1',
      recordingId: 'cam-1~b1',
      status: 'complete',
    });
    expect(parseOperatorEvent('{"type":"stream","action":"createStream"}')).toEqual({
      type: 'stream',
      action: 'createStream',
    });
    expect(parseOperatorEvent('{"type":"status","streamId":"","status":{}}')).toBeUndefined();
    expect(parseOperatorEvent('{"type":"unknown"}')).toBeUndefined();
    expect(parseOperatorEvent('nope')).toBeUndefined();
    expect(parseOperatorEvent(`{"type":"stream","action":"${'x'.repeat(20_000)}"}`)).toBeUndefined();
  });

  it('raises an alarm when a stream goes into error or its storage degrades, and clears it once', () => {
    expect(alarmTransition(undefined, { state: 'live' })).toBeUndefined();
    expect(alarmTransition({ state: 'live' }, { state: 'error', error: 'ffmpeg exited' })).toEqual({
      alarm: 'raised',
      reason: 'ffmpeg exited',
    });
    expect(alarmTransition({ state: 'error' }, { state: 'error' })).toBeUndefined();
    expect(alarmTransition({ state: 'live' }, { state: 'live', storage: { state: 'degraded' } })).toEqual({
      alarm: 'raised',
      reason: 'storage degraded',
    });
    expect(alarmTransition({ state: 'error' }, { state: 'live' })).toEqual({
      alarm: 'cleared',
      reason: 'stream healthy again',
    });
  });

  it('bounds the queue: the item past the limit closes it as overflowed and drains nothing more', async () => {
    const queue = new EventQueue<number>(3);
    expect([queue.push(1), queue.push(2), queue.push(3), queue.push(4)]).toEqual([true, true, true, false]);
    expect(queue.overflowed).toBe(true);
    expect(queue.push(5)).toBe(false);
    // Items already taken by the writer were sent; what is left is stale and the writer stops at the flag.
    expect(queue.size).toBe(3);
  });

  it('wakes a waiting reader at once on a push, and after the timeout with nothing', async () => {
    const queue = new EventQueue<string>(4);
    const t0 = performance.now();
    setTimeout(() => queue.push('a'), 20);
    expect(await queue.next(5000)).toBe('a');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await queue.next(30)).toBeUndefined();
  });
});

describe('the page reads the stream (web/src/operator/sse.ts)', () => {
  it('reads frames split anywhere, skips comments, keeps the last id', () => {
    const got: { id?: string; event: string; data: string }[] = [];
    const parser = sseParser((m) => got.push(m));
    const text = `retry: 1000\n\n${sseFrame('a-0', 'sync', { resumedFrom: null })}: keep-alive\n\n${sseFrame('a-7', 'status', { streamId: 'x' })}`;
    for (let i = 0; i < text.length; i += 5) parser.feed(text.slice(i, i + 5));
    expect(got).toEqual([
      { id: 'a-0', event: 'sync', data: '{"resumedFrom":null}' },
      { id: 'a-7', event: 'status', data: '{"streamId":"x"}' },
    ]);
    expect(parser.lastEventId).toBe('a-7');
  });

  it('refuses an endless message instead of growing without bound', () => {
    const parser = sseParser(() => undefined);
    expect(() => parser.feed(`data: ${'x'.repeat(70_000)}`)).toThrow(/too long/);
  });

  it('backs off 1, 2, 4 ... s after failures, at most 30 s', () => {
    expect([1, 2, 3, 6, 20].map(retryDelayMs)).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });
});

describe('the page applies pushed statuses (web/src/operator/live-updates.ts)', () => {
  const stream = (id: string, state: Stream['status']['state'], updatedAt: string): Stream => ({
    id,
    name: id,
    ladder: 'tile',
    latency: 'low',
    encrypted: false,
    status: { state, renditions: [], updatedAt },
    viewers: 3,
  });
  const shown = [
    stream('a', 'live', '2026-12-01T10:00:00.000Z'),
    stream('b', 'live', '2026-12-01T10:00:00.000Z'),
  ];

  it('patches the stream it names, keeping the rest (viewers, record)', () => {
    const next = applyStatus(shown, {
      streamId: 'a',
      status: { state: 'paused', renditions: [], updatedAt: '2026-12-01T10:00:01.000Z' },
    });
    expect(next.map((s) => s.status.state)).toEqual(['paused', 'live']);
    expect(next[0]!.viewers).toBe(3);
  });

  it('ignores a late, older status', () => {
    const next = applyStatus(shown, {
      streamId: 'a',
      status: { state: 'idle', renditions: [], updatedAt: '2026-12-01T09:59:59.000Z' },
    });
    expect(next[0]!.status.state).toBe('live');
  });

  it('keeps a pushed status newer than a refetch that left before it', () => {
    const pushed = [stream('a', 'paused', '2026-12-01T10:00:02.000Z')];
    const fetched = [
      stream('a', 'live', '2026-12-01T10:00:01.000Z'),
      stream('c', 'idle', '2026-12-01T10:00:01.000Z'),
    ];
    expect(mergeFetched(fetched, pushed).map((s) => [s.id, s.status.state])).toEqual([
      ['a', 'paused'],
      ['c', 'idle'],
    ]);
  });
});

describe('operator access tokens (core/auth/operator-token.ts)', () => {
  const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const now = Date.UTC(2026, 11, 1, 10);
  let fetches = 0;
  const jwks = new JwksKeys(
    async () => {
      fetches++;
      return { keys: [jwk] };
    },
    {},
    () => now,
  );
  const verify = operatorTokenVerifier({ issuer: ISSUER, clientIds: ['pageclient'] }, jwks, () => now);
  const token = (claims: Record<string, unknown>, key: KeyObject = privateKey, kid = 'k1') => {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const signed = `${part({ alg: 'RS256', kid })}.${part(claims)}`;
    return `${signed}.${sign('sha256', Buffer.from(signed), key).toString('base64url')}`;
  };
  const access = {
    iss: ISSUER,
    token_use: 'access',
    client_id: 'pageclient',
    sub: 'u-1',
    username: 'alice',
    exp: now / 1000 + 3600,
  };

  it('accepts the pool’s access token for the operator page client', async () => {
    expect(await verify(token(access))).toMatchObject({ ok: true, claims: { username: 'alice' } });
    expect(fetches).toBe(1);
  });

  it.each([
    ['another pool', { ...access, iss: 'https://cognito-idp.eu-west-1.amazonaws.com/other' }, /user pool/],
    ['another app client', { ...access, client_id: 'other' }, /operator page/],
    ['an expired token', { ...access, exp: now / 1000 - 3600 }, /expired/],
    ['a refresh-like token use', { ...access, token_use: 'refresh' }, /token_use/],
    ['a token without token_use', { ...access, token_use: undefined }, /token_use/],
  ])('refuses %s', async (_name, claims, reason) => {
    const check = await verify(token(claims));
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });

  it('refuses a token signed by another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(await verify(token(access, other))).toEqual({ ok: false, reason: 'signature does not verify' });
  });
});
