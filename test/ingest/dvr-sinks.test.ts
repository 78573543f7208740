import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { IngestEnv } from '../../containers/ingest/src/config.js';
import { DvrSinks } from '../../containers/ingest/src/dvr/dvr-sinks.js';
import { createMediaStorage, createPackagerSinks } from '../../containers/ingest/src/sinks.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { readEnv } from '../../core/contracts/env.js';
import { dvrKeys, type MediaClass } from '../../core/contracts/names.js';
import { type DvrWindowState, parseDvrPlaylist } from '../../core/dvr/window.js';
import type { RenditionSinkFactory } from '../../core/media/rendition-sink.js';
import { streamKeys } from '../../core/streams/keys.js';
import { usePackagerFixture } from '../core/packager-support.js';

/** 7 s of the real test source (libx264 + AAC, fMP4 as the transcoder writes it). */
const fixture = usePackagerFixture('mirror-dvr-', 7);
const B1 = 'mh3k2x9a7q4f';
const B2 = 'mh3k3y0b8r5g';
const B3 = 'mh3k4z1c9s6h';
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const quiet = { warn: () => undefined };
const quietLogger = {
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as unknown as Logger;
/** The packager's place: the DVR decorates whatever it wraps. */
const nothing: RenditionSinkFactory = {
  open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
};

function feed(sink: { write(c: Uint8Array): void }, bytes: Uint8Array, chunk = 7919): void {
  for (let i = 0; i < bytes.byteLength; i += chunk) sink.write(bytes.subarray(i, i + chunk));
}

async function stored(storage: LocalDiskStorage, key: string): Promise<string> {
  return new TextDecoder().decode(await storage.get(key));
}

/** Media sequence number of each listed URI. */
const numbered = (s: DvrWindowState) => new Map(s.entries.map((e, i) => [e.uri, s.mediaSequence + i]));

describe('the DVR sinks (real fMP4 from ffmpeg, local storage; D43)', () => {
  it('keeps one window across a reconnect and a takeover by another task, sequences continued', async () => {
    const disk = new LocalDiskStorage(fixture.dir);
    // The lifecycle class of every put: the DVR's objects must expire with the DVR window's rules (segment, init).
    const classes = new Map<string, MediaClass>();
    const storage = {
      put: (key: string, bytes: Uint8Array, mediaClass: MediaClass) => {
        classes.set(key.split('/').pop()!.replace(/-\d+/g, '-N'), mediaClass);
        return disk.put(key, bytes, mediaClass);
      },
      get: (key: string) => disk.get(key),
    } as LocalDiskStorage;
    // A 10 s window: 1 s DVR segments (10 per window), cut at the source's keyframes.
    const first = new DvrSinks(nothing, { storage, logger: quiet, windowS: 10 });
    expect(first.segmentTargetMs).toBe(1_000);
    const sink = first.open('dvr-1', '360p', { broadcast: B1, ingestAnchorMs: T0 });
    feed(sink, fixture.source);
    // The encoder reconnects 1 s after its 7 s: a new broadcast in the same sink.
    sink.restart({ broadcast: B2, ingestAnchorMs: T0 + 8_000 });
    feed(sink, fixture.source);
    await sink.end();

    const before = parseDvrPlaylist(await stored(storage, dvrKeys.playlist('dvr-1', '360p')))!;
    // Newest end T0 + 15 s: B1's segments ending by T0 + 5 s left the window and the sequence counts them.
    expect(before.mediaSequence).toBeGreaterThan(0);
    expect(before.discontinuitySequence).toBe(0);
    const reconnect = before.entries.findIndex((e) => e.uri.startsWith(`${B2}/`));
    expect(before.entries[reconnect]).toMatchObject({ discontinuity: true, mapUri: `${B2}/dvr-init-1.mp4` });
    expect(before.entries[reconnect]!.startMs).toBeGreaterThanOrEqual(T0 + 8_000);
    expect(before.entries[reconnect]!.startMs).toBeLessThan(T0 + 8_100);
    expect(before.entries.filter((e) => e.discontinuity)).toHaveLength(1);
    for (const e of before.entries.slice(0, reconnect)) expect(e.uri.startsWith(`${B1}/`)).toBe(true);
    // The window's wall-clock span (the 1 s reconnect gap included): the window plus at most the segment across
    // its start.
    const last = before.entries.at(-1)!;
    const spanMs = last.startMs + last.durationS * 1000 - before.entries[0]!.startMs;
    expect(spanMs).toBeGreaterThanOrEqual(10_000);
    expect(spanMs).toBeLessThan(13_000);
    // Every listed segment and init is stored.
    for (const e of before.entries) {
      expect(await storage.get(`dvr-1/360p/${e.uri}`), e.uri).toBeDefined();
      expect(await storage.get(`dvr-1/360p/${e.mapUri}`), e.mapUri).toBeDefined();
    }
    expect(Object.fromEntries(classes)).toEqual({
      'dvr-N.m4s': 'segment',
      'dvr-init-N.mp4': 'init',
      'dvr.m3u8': 'segment',
    });
    const master = await stored(storage, dvrKeys.multivariant('dvr-1'));
    expect(master).toMatch(
      /^#EXT-X-STREAM-INF:BANDWIDTH=\d+00000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\n360p\/dvr\.m3u8$/m,
    );

    // Another task takes the stream over (a new process): it reads the stored window back and continues it.
    const second = new DvrSinks(nothing, { storage, logger: quiet, windowS: 10 });
    const taken = second.open('dvr-1', '360p', { broadcast: B3, ingestAnchorMs: T0 + 15_500 });
    feed(taken, fixture.source.subarray(0, Math.floor(fixture.source.byteLength / 2)));
    await taken.end();
    const after = parseDvrPlaylist(await stored(storage, dvrKeys.playlist('dvr-1', '360p')))!;
    // What both list has the same media sequence number in both: the sequence went on, it did not restart.
    const was = numbered(before);
    const shared = [...numbered(after)].filter(([uri]) => was.has(uri));
    expect(shared.length).toBeGreaterThan(0);
    for (const [uri, msn] of shared) expect(msn, uri).toBe(was.get(uri));
    const resumed = after.entries.find((e) => e.uri.startsWith(`${B3}/`))!;
    expect(resumed.discontinuity).toBe(true);
    // B2's reconnect tag dropped with its segment: counted in the discontinuity sequence, if it left.
    const keptReconnect = after.entries.some((e) => e.uri === before.entries[reconnect]!.uri);
    expect(after.discontinuitySequence).toBe(keptReconnect ? 0 : 1);
  }, 60_000);

  it('runs inside the recorder, so a stream with record: false still has its DVR window (sinks.ts)', async () => {
    const redis = fixture.redis.client();
    await redis.set(streamKeys.record('dvr-2'), JSON.stringify({ id: 'dvr-2', record: false }));
    const env = readEnv(IngestEnv, {
      MIRROR_REDIS_URL: fixture.redis.url,
      MIRROR_STORAGE: 'local',
      MIRROR_MEDIA_DIR: fixture.dir,
      MIRROR_DVR_WINDOW_S: '10',
    });
    const storage = createMediaStorage(env);
    const sinks = createPackagerSinks(env, storage, redis, quietLogger);
    const sink = sinks.open('dvr-2', '360p', { broadcast: B1, ingestAnchorMs: Date.now() });
    feed(sink, fixture.source);
    await sink.end();
    const window = parseDvrPlaylist(
      await stored(storage as LocalDiskStorage, dvrKeys.playlist('dvr-2', '360p')),
    )!;
    expect(window.entries.length).toBeGreaterThan(3);
    const files = await readdir(join(fixture.dir, 'dvr-2', '360p', B1));
    expect(files.filter((f) => f.startsWith('dvr-')).length).toBeGreaterThan(3);
    // Not recorded: the flag said so, the DVR did not ask.
    expect(files.filter((f) => f.startsWith('rec'))).toEqual([]);
  }, 60_000);
});
