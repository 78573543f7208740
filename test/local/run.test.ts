import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../local/args.js';
import {
  checkNode,
  checkPorts,
  ffmpegHasEncoder,
  ffmpegHasProtocol,
  formatFailure,
  portFree,
} from '../../local/checks.js';
import { newParts, readPlaylistPosition } from '../../local/playlist-stats.js';
import { formatStatusLine } from '../../local/status-line.js';

describe('command-line options', () => {
  it('default to two tile streams on the documented ports', () => {
    const parsed = parseRunArgs([]);
    expect(parsed).toMatchObject({
      ok: true,
      platform: { streams: 2, ladder: 'tile', gpu: 'auto', httpsPort: 8443, httpPort: 8080, srtPort: 9000 },
    });
  });

  it('accept --streams, --ladder, --gpu and --port', () => {
    const parsed = parseRunArgs(['--streams', '4', '--ladder', 'full', '--gpu', 'off', '--port', '9443']);
    expect(parsed).toMatchObject({
      ok: true,
      platform: { streams: 4, ladder: 'full', gpu: 'off', httpsPort: 9443 },
    });
  });

  it('accept --storage s3 (s3rver through the S3 implementation) and refuse another kind', () => {
    expect(parseRunArgs([])).toMatchObject({ ok: true, platform: { storage: 'local' } });
    expect(parseRunArgs(['--storage', 's3'])).toMatchObject({ ok: true, platform: { storage: 's3' } });
    expect(parseRunArgs(['--storage', 'gcs'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('--storage'),
    });
  });

  it('name the bad option in one line', () => {
    expect(parseRunArgs(['--ladder', 'huge'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('--ladder'),
    });
    expect(parseRunArgs(['--streams', '-1'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('--streams'),
    });
    expect(parseRunArgs(['--port', '70000'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('--port'),
    });
    expect(parseRunArgs(['--bogus'])).toMatchObject({ ok: false, error: expect.stringContaining('bogus') });
  });
});

describe('pre-flight checks', () => {
  it('refuse Node older than 20.11', () => {
    expect(checkNode('18.19.0')?.problem).toContain('too old');
    expect(checkNode('20.10.0')).toBeDefined();
    expect(checkNode('20.11.0')).toBeUndefined();
    expect(checkNode('22.1.0')).toBeUndefined();
  });

  it('read libsrt and encoders from ffmpeg output', () => {
    const protocols = 'Supported file protocols:\nInput:\n  file\n  srt\n  tcp\nOutput:\n  file\n  srt\n';
    expect(ffmpegHasProtocol(protocols, 'srt')).toBe(true);
    expect(ffmpegHasProtocol(protocols.replace(/srt/g, 'rtmp'), 'srt')).toBe(false);
    const encoders =
      ' V....D libx264              libx264 H.264\n V....D libx265              libx265 H.265\n';
    expect(ffmpegHasEncoder(encoders, 'libx265')).toBe(true);
    expect(ffmpegHasEncoder(encoders, 'h264_nvenc')).toBe(false);
  });

  it('say in one line which port is in use and how to fix it', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await portFree(port, 'tcp')).toBe(false);
      const [failure] = await checkPorts([{ name: 'edge HTTPS', port, kind: 'tcp', option: '--port' }]);
      expect(failure && formatFailure(failure)).toBe(
        `✗ TCP port ${port} (edge HTTPS) is in use. Fix: stop what uses it (ss -lnpt 'sport = :${port}') or pass --port <another port>`,
      );
    } finally {
      server.close();
    }
    expect(await portFree(port, 'tcp')).toBe(true);
  });
});

describe('status line', () => {
  const playlist = (msn: number, parts: number) =>
    [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-PART-INF:PART-TARGET=0.1',
      `#EXT-X-MEDIA-SEQUENCE:${msn}`,
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
      '#EXTINF:0.5,',
      `seg-${msn}.m4s`,
      ...Array.from({ length: parts }, (_, i) => `#EXT-X-PART:DURATION=0.1,URI="part-${msn + 1}-${i}.m4s"`),
      `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-${msn + 1}-${parts}.m4s"`,
    ].join('\n');

  it('finds the live edge from PROGRAM-DATE-TIME plus the durations after it', () => {
    const position = readPlaylistPosition(playlist(10, 3));
    expect(position.liveEdgeMs).toBe(Date.parse('2026-01-01T00:00:00.800Z'));
    expect([position.lastMsn, position.lastPart]).toEqual([11, 2]);
    expect(position.partTargetS).toBe(0.1);
  });

  it('counts new parts between two polls, across a segment boundary', () => {
    const before = readPlaylistPosition(playlist(10, 3));
    expect(newParts(before, readPlaylistPosition(playlist(10, 5)))).toBe(2);
    const next = readPlaylistPosition(
      `${playlist(10, 5).split('#EXT-X-PRELOAD')[0]}#EXTINF:0.5,\nseg-11.m4s\n#EXT-X-PART:DURATION=0.1,URI="part-12-0.m4s"\n`,
    );
    expect(newParts(before, next)).toBe(3);
  });

  it('prints one compact line per stream', () => {
    const line = formatStatusLine({
      id: 'cam-1',
      state: 'live',
      inputKbps: 812,
      partsPerSecond: 10,
      latencyMs: 420,
      sessions: 1,
      connections: 2,
      encoderRestarts: 0,
    });
    expect(line).toMatch(
      /^cam-1\s+live\s+in\s+812kbps\s+parts\s+10\.0\/s\s+latency\s+0\.42s\s+viewers 1 \(2 conn\)$/,
    );
    expect(
      formatStatusLine({ id: 'x', state: 'idle', sessions: 0, connections: 0, encoderRestarts: 3 }),
    ).toContain('encoder restarts 3');
  });
});
