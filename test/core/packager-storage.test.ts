import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { S3Storage } from '../../core/adapters/storage/s3.js';
import { FragmentSplitter } from '../../core/cmaf/index.js';
import { buildMediaPlaylist, renderMediaPlaylist } from '../../core/hls/index.js';
import type { RenditionState } from '../../core/live/state.js';
import type { RenditionSink } from '../../core/media/rendition-sink.js';
import { Packager, type PackagerEvent, type PackagerOptions } from '../../core/packager/index.js';
import { encodeTestSource } from '../support/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { type S3Server, startS3 } from '../support/s3.js';
import { type S3FaultProxy, startS3FaultProxy } from '../support/s3-faults.js';
import { epochClock } from './packager-support.js';

/** Broadcast id (decision D16), as the ingest names it at admission. */
const B = 'mh3k2x9a7q4f';

let redis: RedisServer;
let s3: S3Server;
let proxy: S3FaultProxy;
let source: Uint8Array;
let fragments: number;
let live: LiveState;
/** Reads s3rver directly, past the faults: what a viewer's request would find. */
let direct: S3Storage;

beforeAll(async () => {
  [redis, s3, source] = await Promise.all([startRedis(), startS3(), encodeTestSource(3)]);
  proxy = await startS3FaultProxy(s3);
  live = new LiveState(redis.client());
  direct = new S3Storage(s3.client(), s3.bucket);
  const splitter = new FragmentSplitter();
  fragments = splitter.push(source).filter((o) => o.kind === 'fragment').length;
}, 60_000);
afterAll(async () => {
  await proxy.stop();
  await Promise.all([s3.stop(), redis.stop()]);
});

/** The media URIs a playlist names, the preload hint (announced, not yet listed) and reports aside. */
function listedUris(playlist: string): string[] {
  return playlist.split('\n').flatMap((line) => {
    if (line === '') return [];
    if (!line.startsWith('#')) return [line];
    if (!line.startsWith('#EXT-X-PART:') && !line.startsWith('#EXT-X-MAP:')) return [];
    return [...line.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!);
  });
}

interface Run {
  readonly packager: Packager;
  readonly sink: RenditionSink;
  readonly events: PackagerEvent[];
  /** Every state published, in order. */
  readonly published: RenditionState[];
  /** Every URI a publish named that was not in storage at that moment (must stay empty). */
  readonly missing: string[];
}

/**
 * A packager on the real S3 client through the fault proxy, whose live state checks each publish before it goes
 * out: every URI the playlist served from it would name must already be in storage.
 */
function packager(
  streamId: string,
  options: Partial<PackagerOptions> = {},
  client: { maxAttempts?: number } = {},
): Run {
  const run = { events: [], published: [], missing: [] } as unknown as Run;
  const checking = {
    read: live.read.bind(live),
    async publish(...args: Parameters<LiveState['publish']>) {
      const [, rendition, state] = args;
      for (const uri of listedUris(renderMediaPlaylist(buildMediaPlaylist(state.timeline)))) {
        const key = `${streamId}/${rendition}/${uri}`;
        if ((await direct.get(key)) === undefined) run.missing.push(key);
      }
      run.published.push(state);
      return live.publish(...args);
    },
  };
  const p = new Packager({
    storage: new S3Storage(proxy.client(client), proxy.bucket, { putTimeoutMs: () => 250 }),
    live: checking,
    partTargetMs: 100,
    segmentTargetMs: 500,
    onEvent: (e) => run.events.push(e),
    clock: epochClock(), // numbers from 0 (decision D24)
    ...options,
  });
  Object.assign(run, { packager: p, sink: p.open(streamId, '360p', { broadcast: B }) });
  return run;
}

/** Feeds the source in real time (3 s), in chunks as a pipe delivers them; `at` runs once at each elapsed ms. */
async function feedRealtime(sink: RenditionSink, at: Record<number, () => void> = {}): Promise<void> {
  const chunk = 4096;
  const count = Math.ceil(source.byteLength / chunk);
  const started = Date.now();
  const pending = Object.entries(at).map(([ms, f]) => ({ ms: Number(ms), f }));
  for (let i = 0; i < count; i++) {
    const due = started + (3000 * i) / count;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    for (const p of pending.filter((x) => Date.now() - started >= x.ms)) {
      p.f();
      pending.splice(pending.indexOf(p), 1);
    }
    sink.write(source.subarray(i * chunk, Math.min(source.byteLength, (i + 1) * chunk)));
  }
  for (const p of pending) p.f();
}

const lost = (events: PackagerEvent[], reason?: string) =>
  events.reduce((n, e) => n + (e.kind === 'parts-lost' && (!reason || e.reason === reason) ? e.count : 0), 0);
const listedParts = (state: RenditionState) =>
  state.timeline.segments.reduce((n, s) => n + s.partCount, 0) + (state.timeline.open?.parts.length ?? 0);

describe('packager on S3 with failing writes: nothing is listed that is not stored (decision D21)', () => {
  it('a part PUT that keeps failing ends its segment there; the stream goes on after a discontinuity', async () => {
    const run = packager('ps-part', {}, { maxAttempts: 1 });
    proxy.fail({ mode: 'error', method: 'PUT', key: /^ps-part\/.*\/part-2-2\.m4s$/ });
    for (let i = 0; i < source.byteLength; i += 7919) run.sink.write(source.subarray(i, i + 7919));
    await run.sink.end();
    expect(run.missing).toEqual([]);
    const { timeline } = run.published.at(-1)!;
    expect(timeline.segments.find((s) => s.msn === 2)).toMatchObject({ partCount: 2 });
    // The parts after the hole waited for the next keyframe, which starts a segment after a discontinuity.
    expect(timeline.segments.find((s) => s.msn === 3)).toMatchObject({ discontinuity: true, broadcast: B });
    expect(timeline.segments.at(-1)!.msn).toBe(5);
    expect(run.events.filter((e) => e.kind === 'write-failed')).toEqual([
      expect.objectContaining({ key: `ps-part/360p/${B}/part-2-2.m4s`, mediaClass: 'part' }),
    ]);
    expect(lost(run.events, 'write-failed')).toBe(1);
    expect(lost(run.events, 'no-keyframe')).toBe(2);
    expect(listedParts(run.published.at(-1)!) + lost(run.events)).toBe(fragments);
  });

  it('a part lost at a segment start moves the rendition to a fresh folder (its name may exist)', async () => {
    const run = packager('ps-first', {}, { maxAttempts: 1 });
    proxy.fail({ mode: 'drop', method: 'PUT', key: new RegExp(`^ps-first/360p/${B}/part-3-0\\.m4s$`) });
    for (let i = 0; i < source.byteLength; i += 7919) run.sink.write(source.subarray(i, i + 7919));
    await run.sink.end();
    expect(run.missing).toEqual([]);
    const { timeline } = run.published.at(-1)!;
    const after = timeline.segments.find((s) => s.msn === 3)!;
    // msn 3 goes on in another folder, from init-1 stored there again: part-3-0 of the first folder is never reused.
    expect(after).toMatchObject({ discontinuity: true, initVersion: 1 });
    expect(after.broadcast).not.toBe(B);
    expect(await direct.get(`ps-first/360p/${after.broadcast}/init-1.mp4`)).toBeDefined();
    expect(timeline.segments.find((s) => s.msn === 2)).toMatchObject({ broadcast: B, partCount: 5 });
    const writes = proxy.seen.filter((r) => r.method === 'PUT' && r.key.startsWith('ps-first/'));
    expect(writes.filter((r) => r.key.endsWith(`${B}/part-3-0.m4s`)).every((r) => r.fault === 'drop')).toBe(
      true,
    );
  });

  it('a failed init PUT blocks the rendition until a retry stores it; the status says init-failed', async () => {
    const run = packager('ps-init');
    const release = proxy.fail({ mode: 'error', method: 'PUT', key: /^ps-init\/.*\/init-1\.mp4$/ });
    const storage: string[] = [];
    // Read as the ingest status reads it: through the factory, per stream.
    const sample = setInterval(
      () => storage.push(...run.packager.storage('ps-init').map((r) => r.state)),
      50,
    );
    await feedRealtime(run.sink, { 600: release });
    clearInterval(sample);
    await run.sink.end();
    expect(run.missing).toEqual([]);
    expect(storage).toContain('init-failed');
    // Nothing was published while the init was missing; once stored, parts are listed again.
    const { timeline } = run.published.at(-1)!;
    expect(timeline.segments.length).toBeGreaterThanOrEqual(3);
    expect(lost(run.events, 'no-init')).toBeGreaterThan(0);
    expect(run.sink.storage!()).toMatchObject({ state: 'degraded', pendingSegments: 0 });
    expect(run.sink.storage!().failedWrites).toBeGreaterThanOrEqual(1);
    expect(run.packager.storage('ps-init')).toEqual([]); // ended renditions leave the report
  });

  it('a storage outage (held requests, timed out) loses what it must and recovers within a GOP or two', async () => {
    const run = packager('ps-outage', { clock: Date.now }); // publishedAtMs is compared with Date.now below
    let releasedAt = 0;
    let release = () => {};
    await feedRealtime(run.sink, {
      600: () => {
        release = proxy.fail({ mode: 'hold', method: 'PUT', key: /^ps-outage\// });
      },
      2000: () => {
        release();
        releasedAt = Date.now();
      },
    });
    await run.sink.end();
    expect(run.missing).toEqual([]);
    const last = run.published.at(-1)!.timeline;
    const afterHole = last.segments.filter((s) => s.discontinuity);
    expect(afterHole.length).toBeGreaterThanOrEqual(1);
    // Publishing resumed after the outage: segments closed after the hole are listed.
    expect(last.segments.at(-1)!.msn).toBeGreaterThan(afterHole[0]!.msn);
    const firstAfter = run.published.find((s) => s.publishedAtMs > releasedAt);
    expect(firstAfter!.publishedAtMs - releasedAt).toBeLessThan(2000);
    expect(listedParts(run.published.at(-1)!) + lost(run.events)).toBe(fragments);
  });

  it('a segment PUT that fails holds publishes until a retry stores it', async () => {
    // One request per put: the packager's own 3 attempts are over long before the fault is, its retries are not.
    // Released well after seg-1 closes (about 1 s in), so the hold outlasts a retry interval (at most 1 s) whatever
    // the machine's load.
    const run = packager('ps-seg', {}, { maxAttempts: 1 });
    const release = proxy.fail({ mode: 'error', method: 'PUT', key: /^ps-seg\/.*\/seg-1\.m4s$/ });
    await feedRealtime(run.sink, { 2500: release });
    await run.sink.end();
    expect(run.missing).toEqual([]);
    const { timeline } = run.published.at(-1)!;
    // Not a part was lost: the segment was stored late and every part stayed listed.
    expect(timeline.segments.map((s) => s.msn)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(timeline.segments.some((s) => s.discontinuity)).toBe(false);
    expect(lost(run.events)).toBe(0);
    // While seg-1 was missing nothing was published (every publish would have named it).
    const gaps = run.published.slice(1).map((s, i) => s.publishedAtMs - run.published[i]!.publishedAtMs);
    expect(Math.max(...gaps)).toBeGreaterThan(500);
  });

  it('a full write queue drops fragments: counted, and never listed', async () => {
    const run = packager('ps-queue', { queue: { maxEntries: 3 } });
    const release = proxy.fail({ mode: 'delay', method: 'PUT', key: /^ps-queue\//, delayMs: 60 });
    try {
      for (let i = 0; i < source.byteLength; i += 7919) run.sink.write(source.subarray(i, i + 7919));
      await run.sink.end();
    } finally {
      release();
    }
    expect(run.missing).toEqual([]);
    const dropped = lost(run.events, 'queue-full');
    expect(dropped).toBeGreaterThan(0);
    expect(run.sink.storage!().lostParts).toBe(lost(run.events));
    expect(listedParts(run.published.at(-1)!) + lost(run.events)).toBe(fragments);
  });
});
