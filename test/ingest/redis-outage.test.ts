import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestService, startIngestService } from '../../containers/ingest/src/service.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { RedisPartStore } from '../../core/adapters/live/part-store.js';
import { createRedisClient } from '../../core/adapters/redis.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import type { HttpApp } from '../../core/http.js';
import { Packager } from '../../core/packager/index.js';
import { channels, streamKeys } from '../../core/streams/keys.js';
import type { LegacyStreamRecord as StreamRecord } from '../../core/streams/schema.js';
import { createManifestApp, manifestDepsFromRedis } from '../../functions/manifest/app.js';
import { type ControlledRedis, controlledRedis } from '../support/redis-control.js';
import { freeUdpPort, makeClip, type Pusher, pushSrt } from './media.js';
import { createStream } from './streams.js';

// The ingest rides out a Redis outage longer than its lease TTL: the encoder stays connected, media keeps being
// stored, /health says degraded (200), and when Redis comes back empty (a restart that lost the data) the lease is
// taken back and the live state reappears with the numbering it had: every part stored meanwhile is listed, no MSN
// is reused, every advertised object exists.

const PASS = 'a passphrase of 24 chars';
const OUTAGE_MS = 4000;
const LEASE_TTL_MS = 1000;
const cam: StreamRecord = {
  id: 'outage-cam',
  name: 'outage-cam',
  ladder: 'passthrough',
  latency: 'low',
  latencyProfile: 'low',
  publishKey: 'key-outage-cam-0123456789',
  passphrase: PASS,
  keyLength: 16,
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
};
const PLAYLIST = `/${cam.id}/source/playlist.m3u8`;

interface Listing {
  readonly text: string;
  /** msn -> segment URI path. */
  readonly segments: Map<number, string>;
  /** Every object the playlist names (init, segments, parts), as URL paths. */
  readonly objects: string[];
}

/** Reads the media playlist through the manifest app and resolves what it names. */
async function listing(manifest: HttpApp): Promise<Listing | undefined> {
  const response = await manifest.handle({ method: 'GET', path: PLAYLIST, query: {}, headers: {} });
  if (response.status !== 200) return undefined;
  const text = String(response.body);
  const base = `http://edge${PLAYLIST}`;
  const path = (uri: string) => new URL(uri, base).pathname;
  const segments = new Map<number, string>();
  const objects: string[] = [];
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  let afterInf = false;
  for (const line of text.split('\n')) {
    const uri = /^#EXT-X-(?:MAP|PART):.*URI="([^"]+)"/.exec(line)?.[1];
    if (uri !== undefined) objects.push(path(uri));
    if (line.startsWith('#EXTINF')) afterInf = true;
    else if (afterInf && line !== '' && !line.startsWith('#')) {
      segments.set(msn++, path(line));
      objects.push(path(line));
      afterInf = false;
    }
  }
  return { text, segments, objects };
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function partsWrittenSince(root: string, sinceMs: number): number {
  return (readdirSync(root, { recursive: true }) as string[]).filter(
    (f) => /part-[^/]*\.m4s$/.test(f) && statSync(join(root, f)).mtimeMs >= sinceMs,
  ).length;
}

describe('ingest through a Redis outage', () => {
  let server: ControlledRedis;
  let redis: Redis;
  let service: IngestService;
  let pusher: Pusher;
  let manifest: HttpApp;
  let mediaDir: string;
  let storage: LocalDiskStorage;
  const warnings: string[] = [];

  beforeAll(async () => {
    server = await controlledRedis();
    redis = createRedisClient(server.url);
    redis.on('error', () => undefined);
    await createStream(redis, cam);
    mediaDir = mkdtempSync(join(tmpdir(), 'mirror-outage-media-'));
    storage = new LocalDiskStorage(mediaDir);
    const log = {
      info: () => {},
      warn: (message: string) => warnings.push(message),
      error: (message: string) => warnings.push(`error: ${message}`),
    };
    const port = await freeUdpPort();
    service = await startIngestService({
      redis,
      taskId: 'task-outage',
      sinks: new Packager({
        storage,
        live: new LiveState(redis),
        // As deployed (decision D33): parts in Redis, and in storage while Redis is away.
        parts: new RedisPartStore(redis),
        partTargetMs: 100,
        segmentTargetMs: 500,
        logger: log,
      }),
      srtPort: port,
      srtHost: '127.0.0.1',
      healthPort: 0,
      gpu: { available: false, detail: 'test machine' },
      statusIntervalMs: 250,
      leaseTtlMs: LEASE_TTL_MS,
      logger: log,
    });
    await redis.publish(channels.streamChanges, JSON.stringify({ type: 'upsert', streamId: cam.id }));
    manifest = createManifestApp(manifestDepsFromRedis(redis, storage));
    const clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
    await new Promise((r) => setTimeout(r, 200));
    pusher = pushSrt({
      clip,
      port,
      streamId: `#!::r=${cam.id},m=publish,s=${cam.publishKey}`,
      passphrase: PASS,
    });
  }, 60_000);
  afterAll(async () => {
    await pusher?.stop();
    await service?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it('keeps the publisher and stores media through the outage; after it the live state continues its numbering', async () => {
    const before = await eventually(
      'a few published segments',
      async () => {
        const l = await listing(manifest);
        return l !== undefined && l.segments.size >= 3 && l;
      },
      30_000,
    );
    const health = `http://127.0.0.1:${service.healthPort}/health`;

    const killedAt = Date.now();
    await server.kill();
    await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
    const degraded = await fetch(health);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ ok: true, degraded: true, redis: false });
    await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));

    // Well past the lease TTL: still connected, still storing (about 10 parts a second).
    expect(service.status(cam.id)).toMatchObject({ state: 'live' });
    const storedDuringOutage = partsWrittenSince(mediaDir, killedAt);
    expect(storedDuringOutage).toBeGreaterThan((OUTAGE_MS / 100) * 0.6);

    // Back, empty: the lease and the live state are written again.
    await server.start();
    const probe = server.probe();
    const after = await eventually(
      'the live state back',
      async () => {
        const l = await listing(manifest);
        const lastBefore = Math.max(...before.segments.keys());
        return l !== undefined && Math.max(...l.segments.keys()) > lastBefore + OUTAGE_MS / 500 - 2 && l;
      },
      10_000,
    );
    await eventually(
      'the lease taken back',
      async () => (await probe.get(streamKeys.lease(cam.id))) === 'task-outage',
      5000,
    );

    expect(service.status(cam.id)).toMatchObject({ state: 'live' });

    // Numbering continued: a segment listed before the outage is listed after under the same number and name.
    const shared = [...before.segments].filter(([msn]) => after.segments.has(msn));
    expect(shared.length).toBeGreaterThan(0);
    for (const [msn, uri] of shared) expect(after.segments.get(msn)).toBe(uri);
    // No gap: the segments published during the outage are listed, without a discontinuity.
    const msns = [...after.segments.keys()];
    expect(msns).toEqual(msns.map((_, i) => msns[0]! + i));
    expect(after.text).not.toContain('#EXT-X-DISCONTINUITY\n');
    // Everything advertised is stored: parts in Redis or (written during the outage) in storage, the rest in storage.
    for (const object of after.objects) {
      const answer = await manifest.handle({ method: 'GET', path: object, query: {}, headers: {} });
      expect(answer.status, object).toBe(200);
    }
    // One warning per failing thing per outage, not one per tick or per part.
    const repeated = warnings.filter((w, i) => warnings.indexOf(w) !== i);
    expect(repeated).toEqual([]);
    expect(warnings.some((w) => w.startsWith('error:'))).toBe(false);
  }, 60_000);
});
