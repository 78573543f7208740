import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LiveWaiters } from '../../core/adapters/live/waiters.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpApp } from '../../core/http.js';
import { liveKeys } from '../../core/live/index.js';
import { createManifestApp } from '../../functions/manifest/app.js';
import { Flights } from '../../functions/manifest/flights.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { bodyText, get, SyntheticRendition, settledWithin } from './helpers.js';

/**
 * Decision D30: identical blocking requests share one flight (one live-state read, one wait, one rendered response),
 * so a publish that releases 1,000 players costs one read and one answer, not 1,000 of each. Reads are counted by
 * redis-server itself (INFO commandstats), not by a wrapper.
 */
let redis: RedisServer;
let dir: string;
let storage: LocalDiskStorage;
let live: LiveState;
let waiters: LiveWaiters;
let app: HttpApp;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'mirror-wake-'));
  storage = new LocalDiskStorage(dir);
  live = new LiveState(redis.client());
  waiters = new LiveWaiters(redis.client(), live);
  app = createManifestApp({ live, waiters, storage });
});
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function hgetallCalls(): Promise<number> {
  const info = await redis.client().info('commandstats');
  return Number(/cmdstat_hgetall:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('identical blocking requests share one flight (D30)', () => {
  it('500 players held on the next part: one HGETALL to hold them, one to wake them, one response', async () => {
    const video = new SyntheticRendition(live, storage, 'flight-1', '360p');
    await video.init();
    await video.parts(7); // next part: 1.2
    const before = await hgetallCalls();
    const query = { _HLS_msn: '1', _HLS_part: '2' };
    const requests = Array.from({ length: 500 }, () =>
      app.handle(get('/flight-1/360p/playlist.m3u8', query)),
    );
    expect(await settledWithin(Promise.all(requests), 150)).toBe('pending');
    const numsub = (await redis.client().pubsub('NUMSUB', liveKeys.notify('flight-1'))) as [string, number];
    expect(numsub[1]).toBe(1);
    await video.part();
    const responses = await Promise.all(requests);
    // The flight's read, LiveWaiters' read after subscribing (a publish may land in between) and the wake-up's read.
    // Before D30 every request read the stream on arrival: 500 + 2.
    expect((await hgetallCalls()) - before).toBeLessThanOrEqual(3);
    expect(responses[0]!.status).toBe(200);
    expect(bodyText(responses[0]!)).toContain(`${video.broadcast}/part-1-2.m4s`);
    expect(responses.every((r) => r === responses[0])).toBe(true);
  });

  it('a player that goes away leaves the flight; the last one leaving ends the wait and its subscription', async () => {
    const video = new SyntheticRendition(live, storage, 'flight-2', '360p');
    await video.init();
    await video.parts(7);
    const path = '/flight-2/360p/playlist.m3u8';
    const query = { _HLS_msn: '1', _HLS_part: '2' };
    const leaving = new AbortController();
    const staying = new AbortController();
    const left = app.handle(get(path, query), leaving.signal);
    const stays = app.handle(get(path, query), staying.signal);
    expect(await settledWithin(stays, 100)).toBe('pending');
    leaving.abort();
    expect((await left).status).toBe(503);
    expect(await settledWithin(stays, 50)).toBe('pending'); // the other player is still held
    expect(waiters.subscribedStreams).toBe(1);
    await video.part();
    expect((await stays).status).toBe(200);

    const alone = new AbortController();
    const abandoned = app.handle(get(path, { _HLS_msn: '1', _HLS_part: '3' }), alone.signal);
    expect(await settledWithin(abandoned, 100)).toBe('pending');
    alone.abort();
    await abandoned;
    // Nobody is left to answer: the shared wait is cancelled rather than held to its timeout.
    await new Promise((r) => setTimeout(r, 20));
    expect(waiters.subscribedStreams).toBe(0);
  });
});

describe('Flights bounds', () => {
  const never = () => new Promise<string>(() => undefined);
  it('a caller arriving after the join window starts its own flight (its hold is not cut short)', async () => {
    let clock = 0;
    const flights = new Flights<string>(() => clock, 10, 250);
    let runs = 0;
    const run = () => {
      runs++;
      return never();
    };
    void flights.join('k', run, () => 'gone');
    clock = 250;
    void flights.join('k', run, () => 'gone');
    expect(runs).toBe(1);
    clock = 251;
    void flights.join('k', run, () => 'gone');
    expect(runs).toBe(2);
    expect(flights.size).toBe(1);
  });

  it('past its cap, a request runs on its own instead of growing the map', async () => {
    const flights = new Flights<string>(() => 0, 2);
    let runs = 0;
    for (const key of ['a', 'b', 'c', 'c']) {
      void flights.join(
        key,
        () => {
          runs++;
          return never();
        },
        () => 'gone',
      );
    }
    expect(flights.size).toBe(2);
    expect(runs).toBe(4);
  });

  it('a settled flight leaves the map; its rejection reaches every caller', async () => {
    const flights = new Flights<string>(() => 0);
    const failing = () => Promise.reject(new Error('redis down'));
    const a = flights.join('k', failing, () => 'gone');
    const b = flights.join('k', failing, () => 'gone', new AbortController().signal);
    await expect(a).rejects.toThrow('redis down');
    await expect(b).rejects.toThrow('redis down');
    expect(flights.size).toBe(0);
  });
});
