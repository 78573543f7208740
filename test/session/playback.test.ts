import { describe, expect, it } from 'vitest';
import { type CfEvent, type CfRequest, loadPlaybackFunction } from '../../core/sessions/playback-runner.js';
import { playbackAllowed, signPlaybackToken } from '../../core/sessions/token.js';

const SECRET = 'playback-test-secret-0123456789abcdef';

/** The CloudFront Function's own source, run by the same runner the local edge uses (KVS `kvs-1234`). */
function loadFunction() {
  return loadPlaybackFunction(SECRET, 'kvs-1234');
}

describe('playback protection', () => {
  const handler = loadFunction();
  const now = Math.floor(Date.now() / 1000);
  const token = signPlaybackToken(SECRET, ['cam-1', 'cam-2'], now + 60);
  const req = (uri: string, cookie?: string, query?: string): CfEvent => ({
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'TEST', requestId: '1' },
    viewer: { ip: '127.0.0.1' },
    request: {
      method: 'GET',
      headers: {},
      uri,
      cookies: cookie ? { mirror_playback: { value: cookie } } : {},
      querystring: query ? { token: { value: query }, _HLS_msn: { value: '5' } } : {},
    },
  });
  const allowed = async (event: CfEvent, run = handler) => {
    const result = (await run(event)) as { statusCode?: number };
    return result.statusCode === undefined;
  };

  it('the CloudFront Function lets a valid token through for its streams only', async () => {
    expect(await allowed(req('/cam-1/360p/playlist.m3u8', token))).toBe(true);
    expect(await allowed(req('/cam-2/360p/part-3-1.m4s', token))).toBe(true);
    expect(await allowed(req('/cam-3/360p/playlist.m3u8', token))).toBe(false);
    expect(await allowed(req('/cam-1/360p/playlist.m3u8'))).toBe(false);
    expect(await allowed(req('/cam-1/360p/playlist.m3u8', `${token.slice(0, -2)}xx`))).toBe(false);
    expect(
      await allowed(req('/cam-1/360p/playlist.m3u8', signPlaybackToken(SECRET, ['cam-1'], now - 1))),
    ).toBe(false);
    expect(
      await allowed(
        req('/cam-1/360p/playlist.m3u8', signPlaybackToken('other-secret-xxxxxxxxxxxx', ['cam-1'], now + 60)),
      ),
    ).toBe(false);
    // Non-media paths (the web app) are not its business.
    expect(await allowed(req('/operator/index.html'))).toBe(true);
  });

  it('accepts the token as a query parameter and strips it before the cache and origin', async () => {
    const event = req('/cam-1/360p/playlist.m3u8', undefined, token);
    expect(await allowed(event)).toBe(true);
    expect(Object.keys(event.request.querystring)).toEqual(['_HLS_msn']);
  });

  it('fails closed while the KeyValueStore has no secret', async () => {
    const unset = loadPlaybackFunction(undefined, 'kvs-1234');
    expect(await allowed(req('/cam-1/360p/playlist.m3u8', token), unset)).toBe(false);
    expect(await allowed(req('/cam-1/360p/playlist.m3u8', token))).toBe(true);
    const event = req('/cam-1/360p/playlist.m3u8', token);
    const passed = (await handler(event)) as CfRequest;
    expect(passed.uri).toBe('/cam-1/360p/playlist.m3u8');
  });

  it('agrees with playbackAllowed() in token.ts', () => {
    expect(playbackAllowed(SECRET, '/cam-1/x.m4s', `a=b; mirror_playback=${token}`, undefined, now)).toBe(
      true,
    );
    expect(playbackAllowed(SECRET, '/cam-1/x.m4s', undefined, token, now)).toBe(true);
    expect(playbackAllowed(SECRET, '/cam-9/x.m4s', undefined, token, now)).toBe(false);
  });
});
