import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mirrorSigningKey } from '../../core/auth/keys.js';
import type { createControlApp } from '../../functions/control/app.js';
import { LocalPlaybackKeys } from '../../local/playback-keys.js';
import { useRedisServer } from '../support/redis-hooks.js';
import { bodyArb, fuzzApi, pathArb, requestArb } from './fuzz.js';
import { call, controlApp, fakeAwsPorts, request, TOKEN } from './helpers.js';

describe('control API under fuzzing', () => {
  let app: ReturnType<typeof createControlApp>;

  useRedisServer(async (_server, redis) => {
    // With Mirror's entitlement key, so the viewer-tokens route mints (decision D36).
    // And a playback key ring, so the rotate route rotates, then refuses during the overlap (D37).
    const playbackKeys = new LocalPlaybackKeys();
    await playbackKeys.run('maintain');
    app = controlApp(redis, {
      ...fakeAwsPorts(),
      viewerTokenKey: mirrorSigningKey('fuzz-viewer-token-secret-0123456789abcdef'),
      playbackKeys,
    });
    for (const id of ['cam-1', 'cam-2']) {
      await call(app, request('POST', '/api/control/streams', { id, name: id }));
    }
    // RTP streams (decision D46), one SRTP, one plain: rotate and get meet both kinds.
    await call(app, request('POST', '/api/control/streams', { id: 'rtp-1', name: 'r', protocol: 'rtp' }));
    const plain = { payload: 'h264', plainSources: ['192.0.2.0/24'] };
    await call(
      app,
      request('POST', '/api/control/streams', { id: 'rtp-2', name: 'r', protocol: 'rtp', rtp: plain }),
    );
  });

  it('answers thousands of malformed requests without a 5xx, every 4xx naming the field', async () => {
    // Every route is fuzzed, the ElastiCache view and failover drill too (a fake replication group behind them).
    expect(app.routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/control/redis', '/api/control/redis/failover-test']),
    );
    // Pause, resume and restart (decision D32) are fuzzed with the rest.
    expect(app.routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(
        ['pause', 'resume', 'restart'].map((a) => `/api/control/streams/{streamId}/${a}`),
      ),
    );
    expect(app.routes.map((r) => r.path)).toContain('/api/control/viewer-tokens');
    expect(app.routes.map((r) => r.path)).toContain('/api/control/playback-keys/rotate');
    // Recordings (decision D40): the list, read and delete routes.
    expect(app.routes.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        '/api/control/streams/{streamId}/recordings',
        '/api/control/recordings/{recordingId}',
      ]),
    );
    const keys = [
      'visibility',
      'streams',
      'ttlSeconds',
      'subject',
      'id',
      'name',
      'ladder',
      'latency',
      'encrypted',
      'keyLength',
      'clientToken',
      'publishKey',
      'passphrase',
      'disconnect',
      'reason',
      'desiredCount',
      'protocol',
      'rtp',
      'srtpKey',
    ];
    const valid = [
      { name: 'ok' },
      { name: 'ok', ladder: 'full', latency: 'standard', encrypted: false, keyLength: 32 },
      { publishKey: true, passphrase: false },
      { reason: 'x' },
      { desiredCount: 2 },
      { name: 'renamed' },
      { name: 'ok', visibility: 'private' },
      { visibility: 'public' },
      { streams: ['cam-1'], ttlSeconds: 60 },
      { streams: '*', ttlSeconds: 86_400, subject: 'viewer' },
      { name: 'ok', protocol: 'rtp' },
      {
        name: 'ok',
        protocol: 'rtp',
        rtp: { payload: 'hevc', plainSources: ['2001:db8::/32', '198.51.100.7'] },
      },
      { name: 'ok', protocol: 'rtp', rtp: { payload: 'h264', plainSources: ['not-an-address'] } },
      { name: 'ok', protocol: 'srt', rtp: { payload: 'mp2t' } },
      { srtpKey: true, publishKey: false, passphrase: false },
      { srtpKey: false },
    ];
    const requests = requestArb({
      path: pathArb(
        app.routes.map((r) => r.path),
        { streamId: ['cam-1', 'cam-2', 'rtp-1', 'rtp-2', 'missing'] },
        '/api/control',
      ),
      body: bodyArb(keys, valid),
      query: fc.dictionary(
        fc.constantFrom('limit', 'cursor', 'x', ''),
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('0', '1', '100', '101', '-1', '1e3')),
      ),
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
        { weight: 1, arbitrary: fc.string() },
      ),
      sourceIp: fc.constant('10.0.0.1'),
    });
    await fuzzApi(app, requests);
  });
});
