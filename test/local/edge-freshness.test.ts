import { describe, expect, it } from 'vitest';
import { CACHE_POLICIES } from '../../core/contracts/delivery.js';
import {
  FRESHNESS_BUCKET_MS,
  FRESHNESS_QUERY,
  loadFreshness,
  playlistFunctionCode,
} from '../../core/contracts/playlist-freshness.js';
import type { HttpApp, HttpRequest } from '../../core/http.js';
import { SHORTEST_PART_TARGET_MS } from '../../core/latency-profiles.js';
import { Edge } from '../../local/edge/edge.js';

/**
 * Decision D31: the first playlist a new player gets through the edge is at most one part old, and the origin still
 * sees a bounded number of requests however many players arrive. Before D31 the edge kept a plain media playlist for
 * the 1 s the manifest function allows (max-age=1), and hls.js started that much further behind for good.
 */

const PLAYLIST = '/cam1/360p/playlist.m3u8';

/** A manifest origin whose playlist names the moment it was rendered (the edge's clock). */
function renderingOrigin(clock: { now: number }): HttpApp & { calls: HttpRequest[] } {
  const calls: HttpRequest[] = [];
  return {
    calls,
    async handle(request) {
      calls.push(request);
      return {
        status: 200,
        headers: { 'cache-control': 'public, max-age=1', 'content-type': 'application/vnd.apple.mpegurl' },
        body: `#EXTM3U\n#rendered-at:${clock.now}\n`,
      };
    },
  };
}

function setup() {
  const clock = { now: 1_700_000_000_000 };
  const manifest = renderingOrigin(clock);
  const edge = new Edge({ manifest, media: manifest }, { now: () => clock.now });
  const get = async (query: Record<string, string> = {}, path = PLAYLIST) => {
    const response = await edge.handle({ method: 'GET', path, query, headers: {} });
    const renderedAt = Number(/#rendered-at:(\d+)/.exec(String(response.body))?.[1]);
    return { response, ageMs: clock.now - renderedAt };
  };
  return { clock, manifest, edge, get };
}

describe('fresh first playlists through the edge (D31)', () => {
  it('answers a plain media-playlist request with a playlist at most one part old', async () => {
    const { clock, get } = setup();
    expect(FRESHNESS_BUCKET_MS).toBeLessThanOrEqual(SHORTEST_PART_TARGET_MS);
    await get();
    // Every moment of the second the manifest function lets a CDN keep the playlist (max-age=1).
    for (let step = 0; step < 1000 / 25; step++) {
      clock.now += 25;
      const { ageMs } = await get();
      expect(ageMs).toBeLessThanOrEqual(SHORTEST_PART_TARGET_MS);
    }
  });

  it('asks the origin at most once per bucket, however many players arrive in it', async () => {
    const { clock, manifest, get } = setup();
    clock.now = Math.ceil(clock.now / FRESHNESS_BUCKET_MS) * FRESHNESS_BUCKET_MS;
    // 1,000 players over one second, 10 per bucket's worth of time: at most one origin request per bucket.
    for (let i = 0; i < 1000; i++) {
      await Promise.all([get(), get()]);
      clock.now += 1;
    }
    expect(manifest.calls.length).toBeLessThanOrEqual(1000 / FRESHNESS_BUCKET_MS + 1);
    expect(manifest.calls.every((c) => c.query[FRESHNESS_QUERY] !== undefined)).toBe(true);
  });

  it('leaves blocking requests and the multivariant playlist on their own keys, whatever a client sends', async () => {
    const { clock, manifest, get } = setup();
    const blocking = { _HLS_msn: '12', _HLS_part: '3' };
    await get(blocking);
    clock.now += 5 * FRESHNESS_BUCKET_MS;
    // A client-sent bucket cannot split (or bust) the blocking answer's key.
    const again = await get({ ...blocking, [FRESHNESS_QUERY]: '1' });
    expect(again.response.cache).toBe('hit');
    expect(manifest.calls.map((c) => c.query)).toEqual([blocking]);
    await get({}, '/cam1/master.m3u8');
    clock.now += 5 * FRESHNESS_BUCKET_MS;
    expect((await get({ [FRESHNESS_QUERY]: 'x' }, '/cam1/master.m3u8')).response.cache).toBe('hit');
  });

  it('replaces a bucket a client sends on a plain request with the edge clock', () => {
    const fresh = loadFreshness(() => 12_345);
    const out = fresh({ uri: PLAYLIST, querystring: { [FRESHNESS_QUERY]: { value: '999999999' } } });
    expect(out.querystring).toEqual({
      [FRESHNESS_QUERY]: { value: String(Math.floor(12_345 / FRESHNESS_BUCKET_MS)) },
    });
    expect(CACHE_POLICIES.playlist.queryStrings).toContain(FRESHNESS_QUERY);
  });
});

describe('the CloudFront source of the playlist function', () => {
  /** Evaluates a cloudfront-js-2.0 source with no imports, its handler returned. */
  const load = (source: string) =>
    new Function(`'use strict';\n${source}\nreturn handler;`)() as (event: unknown) => Promise<unknown>;
  const event = (uri: string, querystring: Record<string, { value: string }> = {}) => ({
    request: { uri, querystring, headers: {}, cookies: {} },
  });

  it('sets the bucket on plain media-playlist requests only', async () => {
    const handler = load(playlistFunctionCode());
    const plain = (await handler(event(PLAYLIST))) as { querystring: Record<string, { value: string }> };
    expect(Number(plain.querystring[FRESHNESS_QUERY]?.value)).toBeCloseTo(
      Date.now() / FRESHNESS_BUCKET_MS,
      -1,
    );
    const blocking = (await handler(event(PLAYLIST, { _HLS_msn: { value: '4' } }))) as {
      querystring: Record<string, unknown>;
    };
    expect(blocking.querystring).toEqual({ _HLS_msn: { value: '4' } });
  });

  it('runs the playback check first when playback protection is on, and answers its refusal as it is', async () => {
    // Stand-in playback sources of the shape the real one has (one `async function handler(event) {`).
    const refuse = 'async function handler(event) {\n  return { statusCode: 403 };\n}\n';
    expect(await load(playlistFunctionCode(refuse))(event(PLAYLIST))).toEqual({ statusCode: 403 });
    const pass =
      'async function handler(event) {\n  delete event.request.querystring.token;\n  return event.request;\n}\n';
    const passed = (await load(playlistFunctionCode(pass))(event(PLAYLIST, { token: { value: 't' } }))) as {
      querystring: Record<string, unknown>;
    };
    expect(Object.keys(passed.querystring)).toEqual([FRESHNESS_QUERY]);
    expect(() => playlistFunctionCode('function other() {}')).toThrow(/playbackSource/);
  });
});
