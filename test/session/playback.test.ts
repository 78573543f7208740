import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PLAYBACK_SECRET_KVS_KEY, playbackFunctionCode } from '../../core/sessions/playback-function.js';
import { playbackAllowed, signPlaybackToken } from '../../core/sessions/token.js';

const SECRET = 'playback-test-secret-0123456789abcdef';

type CfRequest = {
  uri: string;
  cookies: Record<string, { value: string }>;
  querystring: Record<string, { value: string }>;
};

/** Runs the CloudFront Function's source with stand-ins for its two modules (crypto's HMAC and the KVS). */
function loadFunction(): (event: { request: CfRequest }) => Promise<unknown> {
  const source = playbackFunctionCode('kvs-1234')
    .replace("import crypto from 'crypto';", '')
    .replace("import cf from 'cloudfront';", '');
  const cf = {
    kvs: (id: string) => ({
      get: async (key: string) => {
        if (id !== 'kvs-1234' || key !== PLAYBACK_SECRET_KVS_KEY) throw new Error('no such key');
        return SECRET;
      },
    }),
  };
  const crypto = { createHmac: (alg: string, key: string) => createHmac(alg, key) };
  return new Function('crypto', 'cf', `${source}\nreturn handler;`)(crypto, cf);
}

describe('playback protection', () => {
  const handler = loadFunction();
  const now = Math.floor(Date.now() / 1000);
  const token = signPlaybackToken(SECRET, ['cam-1', 'cam-2'], now + 60);
  const req = (uri: string, cookie?: string, query?: string): { request: CfRequest } => ({
    request: {
      uri,
      cookies: cookie ? { mirror_playback: { value: cookie } } : {},
      querystring: query ? { token: { value: query }, _HLS_msn: { value: '5' } } : {},
    },
  });
  const allowed = async (event: { request: CfRequest }) => {
    const result = (await handler(event)) as { statusCode?: number };
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

  it('agrees with the local edge check', () => {
    expect(playbackAllowed(SECRET, '/cam-1/x.m4s', `a=b; mirror_playback=${token}`, undefined, now)).toBe(
      true,
    );
    expect(playbackAllowed(SECRET, '/cam-1/x.m4s', undefined, token, now)).toBe(true);
    expect(playbackAllowed(SECRET, '/cam-9/x.m4s', undefined, token, now)).toBe(false);
  });
});
