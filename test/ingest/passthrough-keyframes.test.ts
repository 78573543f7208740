import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamPipeline } from '../../containers/ingest/src/transcode/pipeline.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import {
  buildMediaPlaylist,
  buildMultivariantPlaylist,
  forcedCloseS,
  renderMediaPlaylist,
  renderMultivariantPlaylist,
} from '../../core/hls/index.js';
import { Packager } from '../../core/packager/index.js';
import { mediaKeys } from '../../core/storage/index.js';
import { FFMPEG_QUIET, TEST_PIXELS_AND_AUDIO, testPatternInputs } from '../support/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const B = 'mh3k2x9a7q4f';
const SECONDS = 7;

let redis: RedisServer;
let dir: string;
let clip: Buffer;

/** H.264 in MPEG-TS with one keyframe, at the start: what an encoder set to an infinite GOP (or intra refresh) sends. */
function keyframeOnceClip(): Buffer {
  const out = join(mkdtempSync(join(tmpdir(), 'mirror-nokey-')), 'nokey.ts');
  const made = spawnSync('ffmpeg', [
    ...FFMPEG_QUIET,
    ...testPatternInputs('320x180'),
    '-t',
    String(SECONDS),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-bf',
    '0',
    '-x264-params',
    'keyint=infinite:scenecut=0',
    ...TEST_PIXELS_AND_AUDIO,
    '-f',
    'mpegts',
    '-y',
    out,
  ]);
  if (made.status !== 0) throw new Error(made.stderr.toString());
  return readFileSync(out);
}

beforeAll(async () => {
  [redis, dir] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), 'mirror-nokey-media-'))]);
  clip = keyframeOnceClip();
}, 60_000);
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('passthrough of H.264 without keyframes after the first (decision D21)', () => {
  it('closes segments at the forced-close bound, marked as not independent, all stored', async () => {
    const live = new LiveState(redis.client());
    const storage = new LocalDiskStorage(dir);
    const pipeline = new StreamPipeline({
      streamId: 'nokey',
      ladder: 'passthrough',
      gpuMode: 'off',
      gpu: { available: false, detail: 'test machine' },
      sinks: new Packager({ storage, live, partTargetMs: 100, segmentTargetMs: 500 }),
      broadcast: B,
    });
    try {
      for (let i = 0; i < clip.length; i += 1316 * 7) pipeline.write(clip.subarray(i, i + 1316 * 7));
      // The input holds 7 s: without the bound it would all be one open segment.
      const deadline = Date.now() + 20_000;
      while (((await live.read('nokey'))?.renditions.get('source')?.timeline.segments.length ?? 0) < 3) {
        if (Date.now() > deadline) throw new Error('no third segment');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await pipeline.stop();
    }
    const { timeline, info } = (await live.read('nokey'))!.renditions.get('source')!;
    const boundS = forcedCloseS(0.5);
    // Every complete segment but the last (cut by the end) ran to the bound, never past it.
    const full = timeline.segments.slice(0, -1);
    expect(full.length).toBeGreaterThanOrEqual(2);
    for (const s of timeline.segments) expect(s.durationS).toBeLessThanOrEqual(boundS + 0.001);
    for (const s of full) expect(s.durationS).toBeGreaterThan(boundS - 0.2);
    expect(timeline.targetDurationS).toBe(boundS);
    // Only the first segment starts on the keyframe; the others say they do not.
    expect(timeline.segments[0]!.dependentStart).toBeUndefined();
    expect(timeline.segments.slice(1).every((s) => s.dependentStart === true)).toBe(true);
    const media = renderMediaPlaylist(buildMediaPlaylist(timeline));
    expect(media.match(/INDEPENDENT=YES/g) ?? []).toHaveLength(
      timeline.segments[0]!.parts === undefined ? 0 : 1,
    );
    expect(
      renderMultivariantPlaylist(buildMultivariantPlaylist([{ name: 'source', info, timeline }])),
    ).not.toContain('EXT-X-INDEPENDENT-SEGMENTS');
    for (const s of timeline.segments) {
      expect(await storage.get(mediaKeys.segment('nokey', 'source', s.broadcast, s.msn))).toBeDefined();
    }
  }, 60_000);
});
