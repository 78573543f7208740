import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_STREAM } from '../../core/adapters/audit.js';
import { setViewing } from '../../core/adapters/sessions/viewers.js';
import { channels, streamKeys, taskKeys } from '../../core/streams/keys.js';
import { hashPublishKey, openPassphrase, processDataKeys } from '../../core/streams/secrets.js';
import type { createControlApp } from '../../functions/control/app.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { call, capturingLogger, controlApp, request, TOKEN } from './helpers.js';

/** What an ingest task reports of a live stream, and what the API shows of it. */
const LIVE_STATUS = {
  state: 'live',
  taskId: 'task-a',
  broadcast: 'mh3k2x9a7q4f', // the current broadcast's id (decision D16): the folder of its media
  input: { codec: 'hevc', width: 1920, height: 1080, fps: 50, bitrateKbps: 12000 },
  srt: { rttMs: 12.5, lossPercent: 0.3 },
  renditions: ['360p'],
  latencyMs: 420,
};

describe('control API against a real redis-server', () => {
  let redis: Redis;
  const published: { channel: string; message: string }[] = [];
  const logLines: string[] = [];
  let app: ReturnType<typeof createControlApp>;

  useRedisServer(async (server, client) => {
    redis = client;
    const subscriber = server.client();
    await subscriber.subscribe(channels.streamChanges, channels.ingestCommands);
    subscriber.on('message', (channel: string, message: string) => published.push({ channel, message }));
    app = controlApp(redis, { logger: capturingLogger(logLines) });
  });
  beforeEach(async () => {
    await redis.flushall();
    published.length = 0;
  });

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('creates a stream and returns its SRT URLs and secrets once', async () => {
    const created = await call(
      app,
      request('POST', '/api/control/streams', { id: 'cam-1', name: 'Camera 1' }),
    );
    expect(created.status).toBe(201);
    const { credentials, stream } = created.json;
    expect(stream).toMatchObject({
      id: 'cam-1',
      name: 'Camera 1',
      ladder: 'tile',
      latency: 'low',
      encrypted: true,
    });
    expect(stream.status.state).toBe('idle');
    expect(credentials.publishKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(credentials.passphrase).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // Raw, not percent-encoded: ffmpeg 5.1 hands srt:// options to libsrt undecoded. Split by hand, as
    // ffmpeg does: a WHATWG URL parser would take '#' for a fragment.
    const [base, query = ''] = credentials.srtUrl.split('?');
    expect(base).toBe('srt://ingest.example.net:9000');
    const options = Object.fromEntries(
      query
        .split('&')
        .map((pair: string) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    expect(options).toEqual({
      streamid: `#!::r=cam-1,m=publish,s=${credentials.publishKey}`,
      passphrase: credentials.passphrase,
      pbkeylen: '16',
    });
    expect(new URL(credentials.srtPlainKeyUrl).searchParams.get('streamid')).toBe(credentials.publishKey);

    // The registry is written as the ingest service reads it: the public record, and the secret apart with the key
    // only as its hash and the passphrase sealed (decision D38); no key in any key name, no secret in the record.
    const secret = JSON.parse((await redis.get(streamKeys.secret('cam-1')))!);
    expect(secret.publishKeyHash).toBe(hashPublishKey(credentials.publishKey));
    expect(secret.passphrase.alg).toBe('A256GCM');
    expect(await redis.get(streamKeys.secret('cam-1'))).not.toContain(credentials.passphrase);
    expect(await redis.get(streamKeys.record('cam-1'))).not.toContain(credentials.publishKey);
    expect(await redis.keys(`*${credentials.publishKey}*`)).toEqual([]);
    expect(await openPassphrase(processDataKeys, 'cam-1', secret.passphrase)).toBe(credentials.passphrase);
    expect(await redis.zscore(streamKeys.index, 'cam-1')).not.toBeNull();
    await settle();
    expect(published).toContainEqual({
      channel: channels.streamChanges,
      message: JSON.stringify({ type: 'upsert', streamId: 'cam-1' }),
    });

    // Get never returns the secrets again.
    const got = await call(app, request('GET', '/api/control/streams/cam-1'));
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.json)).not.toContain(credentials.publishKey);
    expect(JSON.stringify(got.json)).not.toContain(credentials.passphrase);
    // Nor does any log line.
    expect(logLines.join('\n')).not.toContain(credentials.publishKey);
    expect(logLines.join('\n')).not.toContain(credentials.passphrase);
  });

  it('derives an id from the name and supports unencrypted ingest', async () => {
    const created = await call(
      app,
      request('POST', '/api/control/streams', { name: 'Main Stage!', encrypted: false }),
    );
    expect(created.status).toBe(201);
    expect(created.json.stream.id).toMatch(/^main-stage-[0-9a-f]{6}$/);
    expect(created.json.credentials.passphrase).toBeNull();
    expect(new URL(created.json.credentials.srtUrl).searchParams.has('passphrase')).toBe(false);
  });

  it('is idempotent with a client token and refuses the token with other parameters', async () => {
    const body = { name: 'Idem', clientToken: 'token-abc-123' };
    const first = await call(app, request('POST', '/api/control/streams', body));
    const again = await call(app, request('POST', '/api/control/streams', body));
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.json.stream.id).toBe(first.json.stream.id);
    // Credentials are shown once: a replay answers the stream without them (decision D38).
    expect(again.json.credentials).toBeUndefined();
    expect(await redis.zcard(streamKeys.index)).toBe(1);
    // Nor after a rotation: never credentials newer than the ones the first call returned.
    const rotated = await call(
      app,
      request('POST', `/api/control/streams/${first.json.stream.id}/rotate`, {}),
    );
    expect(rotated.json.credentials.publishKey).not.toBe(first.json.credentials.publishKey);
    const afterRotation = await call(app, request('POST', '/api/control/streams', body));
    expect(afterRotation.status).toBe(200);
    expect(afterRotation.json.credentials).toBeUndefined();
    expect(JSON.stringify(afterRotation.json)).not.toContain(rotated.json.credentials.publishKey);
    expect(JSON.stringify(afterRotation.json)).not.toContain(rotated.json.credentials.passphrase);
    const other = await call(app, request('POST', '/api/control/streams', { ...body, name: 'Other' }));
    expect(other.status).toBe(409);
    expect(other.json.field).toBe('clientToken');
  });

  it('refuses a duplicate id with 409 naming id', async () => {
    await call(app, request('POST', '/api/control/streams', { id: 'dup', name: 'a' }));
    const second = await call(app, request('POST', '/api/control/streams', { id: 'dup', name: 'b' }));
    expect(second.status).toBe(409);
    expect(second.json.field).toBe('id');
  });

  it('lists streams in pages with a cursor', async () => {
    for (let i = 0; i < 7; i++) {
      await call(app, request('POST', '/api/control/streams', { id: `s-${i}`, name: `S ${i}` }));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(
        app,
        request(
          'GET',
          '/api/control/streams',
          undefined,
          undefined,
          cursor ? { limit: '3', cursor } : { limit: '3' },
        ),
      );
      expect(page.status).toBe(200);
      seen.push(...page.json.streams.map((s: { id: string }) => s.id));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4', 's-5', 's-6']);

    // A cursor whose stream was deleted still continues after it.
    const first = await call(
      app,
      request('GET', '/api/control/streams', undefined, undefined, { limit: '2' }),
    );
    await call(app, request('DELETE', '/api/control/streams/s-1'));
    const next = await call(
      app,
      request('GET', '/api/control/streams', undefined, undefined, {
        limit: '2',
        cursor: first.json.nextCursor,
      }),
    );
    expect(next.json.streams.map((s: { id: string }) => s.id)).toEqual(['s-2', 's-3']);

    const bad = await call(
      app,
      request('GET', '/api/control/streams', undefined, undefined, { cursor: 'nope' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('cursor');
  });

  it('reports live status, figures, task and viewers from what ingest and sessions write', async () => {
    await call(app, request('POST', '/api/control/streams', { id: 'live-1', name: 'Live' }));
    await redis.set(streamKeys.lease('live-1'), 'task-a');
    await redis.set(
      streamKeys.status('live-1'),
      JSON.stringify({ ...LIVE_STATUS, updatedAt: new Date().toISOString() }),
    );
    await setViewing(redis, 'sess-1', [], ['live-1'], Date.now() + 60_000);
    await setViewing(redis, 'sess-2', [], ['live-1'], Date.now() + 60_000);
    await setViewing(redis, 'sess-old', [], ['live-1'], Date.now() - 1);
    const got = await call(app, request('GET', '/api/control/streams/live-1'));
    expect(got.json.stream.status).toMatchObject(LIVE_STATUS);
    expect(got.json.stream.viewers).toBe(2);
  });

  it('updates, rotates, disconnects and deletes, announcing each change', async () => {
    const created = await call(app, request('POST', '/api/control/streams', { id: 'cam-2', name: 'Two' }));
    const oldKey = created.json.credentials.publishKey;
    // The delivery profile defaults to `low` (decision D28) and is stored with the record the ingest reads.
    expect(created.json.stream.latencyProfile).toBe('low');

    const updated = await call(
      app,
      request('PATCH', '/api/control/streams/cam-2', {
        name: 'Renamed',
        ladder: 'full',
        latencyProfile: 'wall',
      }),
    );
    expect(updated.status).toBe(200);
    expect(updated.json.stream).toMatchObject({ name: 'Renamed', ladder: 'full', latencyProfile: 'wall' });
    expect(JSON.parse((await redis.get(streamKeys.record('cam-2'))) ?? '{}').latencyProfile).toBe('wall');

    const rotated = await call(
      app,
      request('POST', '/api/control/streams/cam-2/rotate', { disconnect: true }),
    );
    expect(rotated.status).toBe(200);
    expect(rotated.json.credentials.publishKey).not.toBe(oldKey);
    const hashAfter = () =>
      redis.get(streamKeys.secret('cam-2')).then((raw) => JSON.parse(raw!).publishKeyHash);
    expect(await hashAfter()).toBe(hashPublishKey(rotated.json.credentials.publishKey));

    // One part rotated: the other is kept and not shown (only its hash or seal is stored), so no URL either.
    const onlyPass = await call(
      app,
      request('POST', '/api/control/streams/cam-2/rotate', { publishKey: false, passphrase: true }),
    );
    expect(onlyPass.json.credentials.publishKey).toBeUndefined();
    expect(onlyPass.json.credentials.srtUrl).toBeUndefined();
    expect(onlyPass.json.credentials.passphrase).not.toBe(rotated.json.credentials.passphrase);
    expect(await hashAfter()).toBe(hashPublishKey(rotated.json.credentials.publishKey));

    const kicked = await call(
      app,
      request('POST', '/api/control/streams/cam-2/disconnect', { reason: 'test' }),
    );
    expect(kicked.status).toBe(202);
    expect(kicked.json.tasksNotified).toBe(1); // our subscriber stands in for one ingest task

    const deleted = await call(app, request('DELETE', '/api/control/streams/cam-2'));
    expect(deleted.status).toBe(204);
    expect(await redis.exists(streamKeys.record('cam-2'))).toBe(0);
    expect(await redis.exists(streamKeys.secret('cam-2'))).toBe(0);
    expect((await call(app, request('GET', '/api/control/streams/cam-2'))).status).toBe(404);

    await settle();
    const changes = published
      .filter((p) => p.channel === channels.streamChanges)
      .map((p) => JSON.parse(p.message));
    expect(changes).toEqual([
      { type: 'upsert', streamId: 'cam-2' }, // create
      { type: 'upsert', streamId: 'cam-2' }, // update
      { type: 'upsert', streamId: 'cam-2' }, // rotate
      { type: 'upsert', streamId: 'cam-2' }, // rotate passphrase
      { type: 'delete', streamId: 'cam-2' },
    ]);
    const commands = published
      .filter((p) => p.channel === channels.ingestCommands)
      .map((p) => JSON.parse(p.message));
    expect(commands).toEqual([
      { type: 'disconnect', streamId: 'cam-2', reason: 'credentials rotated' },
      { type: 'disconnect', streamId: 'cam-2', reason: 'test' },
      { type: 'disconnect', streamId: 'cam-2', reason: 'stream deleted' },
    ]);
  });

  it('writes every state-changing call to the audit log, refusals included', async () => {
    await call(app, request('POST', '/api/control/streams', { id: 'aud', name: 'Audit' }));
    await call(app, request('PATCH', '/api/control/streams/missing', { name: 'x' }));
    await call(app, request('DELETE', '/api/control/streams/aud'));
    const audit = await call(app, request('GET', '/api/control/audit'));
    expect(
      audit.json.entries.map((e: { who: string; action: string; target: string; status: number }) => [
        e.who,
        e.action,
        e.target,
        e.status,
      ]),
    ).toEqual([
      ['local-operator', 'deleteStream', 'aud', 204],
      ['local-operator', 'updateStream', 'missing', 404],
      ['local-operator', 'createStream', 'aud', 201],
    ]);
    expect(await redis.xlen(AUDIT_STREAM)).toBe(3);
    for (const e of audit.json.entries) expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 10_000);
    expect(logLines.some((l) => l.includes('"action":"deleteStream"'))).toBe(true);
  });

  it('refuses callers without the operator token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Record<
      string,
      string
    >[]) {
      const r = await call(app, request('GET', '/api/control/streams', undefined, headers));
      expect(r.status).toBe(401);
      expect(r.json.field).toBe('authorization');
    }
    // The OpenAPI document is public.
    expect((await call(app, request('GET', '/api/control/openapi.json', undefined, {}))).status).toBe(200);
  });

  it('names the field in every validation error and refuses unknown fields', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', colour: 'red' }, 'colour'],
      [{ name: '' }, 'name'],
      [{ name: 'x', ladder: '4k' }, 'ladder'],
      [{ name: 'x', latencyProfile: 'ultra' }, 'latencyProfile'],
      [{ name: 'x', keyLength: 20 }, 'keyLength'],
      [{ name: 'x', id: 'API' }, 'id'],
      [{ name: 'x', id: 'api' }, 'id'],
      [{ name: 'x', clientToken: 'short' }, 'clientToken'],
      [{}, 'name'],
      ['not json', 'body'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await call(app, request('POST', '/api/control/streams', body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.field, JSON.stringify(body)).toBe(field);
    }
    const noBody = await call(app, request('POST', '/api/control/streams'));
    expect(noBody.json.field).toBe('body');
    const badId = await call(app, request('GET', '/api/control/streams/Bad_Id'));
    expect([badId.status, badId.json.field]).toEqual([400, 'streamId']);
    const badLimit = await call(
      app,
      request('GET', '/api/control/streams', undefined, undefined, { limit: '0' }),
    );
    expect([badLimit.status, badLimit.json.field]).toEqual([400, 'limit']);
    const unknownQuery = await call(
      app,
      request('GET', '/api/control/streams', undefined, undefined, { x: '1' }),
    );
    expect([unknownQuery.status, unknownQuery.json.field]).toEqual([400, 'x']);
    const method = await call(app, request('PUT', '/api/control/streams'));
    expect([method.status, method.json.field]).toEqual([405, 'method']);
    const path = await call(app, request('GET', '/api/control/nothing'));
    expect([path.status, path.json.field]).toEqual([404, 'path']);
    const rotateNothing = await call(
      app,
      request('POST', '/api/control/streams/x/rotate', { publishKey: false, passphrase: false }),
    );
    expect([rotateNothing.status, rotateNothing.json.field]).toEqual([400, 'publishKey']);
  });

  it('answers 409 not_configured for scaling and invalidation without AWS services', async () => {
    const scale = await call(app, request('PUT', '/api/control/ingest/scale', { desiredCount: 2 }));
    expect([scale.status, scale.json.error]).toEqual([409, 'not_configured']);
    const inv = await call(app, request('POST', '/api/control/streams/abc/invalidate'));
    expect([inv.status, inv.json.error]).toEqual([409, 'not_configured']);
  });

  it('lists ingest tasks with capacity and load', async () => {
    const now = Date.now();
    await redis.set(
      taskKeys.report('t1'),
      JSON.stringify({ taskId: 't1', capacity: 15, streams: 4, gpu: true }),
    );
    await redis.set(
      taskKeys.report('t2'),
      JSON.stringify({ taskId: 't2', capacity: 6, streams: 1, gpu: false }),
    );
    await redis.zadd(taskKeys.index, now, 't1', now, 't2', now - 120_000, 'gone');
    const r = await call(app, request('GET', '/api/control/ingest'));
    expect(r.status).toBe(200);
    expect(r.json.tasks.map((t: { taskId: string }) => t.taskId).sort()).toEqual(['t1', 't2']);
    expect(r.json.totals).toEqual({ capacity: 21, streams: 5 });
    expect(r.json.service).toBeNull();
  });
});
