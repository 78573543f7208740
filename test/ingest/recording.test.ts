import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingSinks, recordFlagFromRedis } from '../../containers/ingest/src/recording/recorder.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { recordingId, recordingKeys } from '../../core/contracts/names.js';
import { Packager } from '../../core/packager/index.js';
import { RecordingEntry, recordingIndexKeys } from '../../core/recordings/entry.js';
import { streamKeys } from '../../core/streams/keys.js';
import { epochClock, usePackagerFixture } from '../core/packager-support.js';

/** 7 s of the real test source (libx264 + AAC, fMP4 as the transcoder writes it), fed twice across a restart. */
const fixture = usePackagerFixture('mirror-recording-', 7);
const B = 'mh3k2x9a7q4f';
const quiet = { warn: () => undefined, info: () => undefined };

function feed(sink: { write(c: Uint8Array): void }, bytes: Uint8Array, chunk = 7919): void {
  for (let i = 0; i < bytes.byteLength; i += chunk) sink.write(bytes.subarray(i, i + chunk));
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('recordings (real packager, ffmpeg, redis-server, local storage)', () => {
  it('records a broadcast across a transcoder restart as VOD playlists ffprobe reads end to end', async () => {
    const redis = fixture.redis.client();
    const storage = new LocalDiskStorage(fixture.dir);
    const packager = new Packager({
      storage,
      live: new LiveState(redis),
      partTargetMs: 100,
      segmentTargetMs: 500,
      clock: epochClock(),
    });
    // 8 Mbit/s: the 6 s chunk floor, so each 7 s run is a 6 s chunk and a 1 s one.
    const sinks = new RecordingSinks(packager, {
      storage,
      redis,
      logger: quiet,
      retentionDays: 30,
      bitrateBps: () => 8_000_000,
    });
    const sink = sinks.open('rec-1', '360p', { broadcast: B });
    feed(sink, fixture.source);
    sink.restart(); // ffmpeg respawned within the same connection: same recording, a discontinuity
    feed(sink, fixture.source);
    await sink.end();

    const folder = join(fixture.dir, 'rec-1', '360p', B);
    const files = (await readdir(folder)).filter((f) => f.startsWith('rec'));
    expect(files.sort()).toEqual([
      'rec-0.m4s',
      'rec-1.m4s',
      'rec-2.m4s',
      'rec-3.m4s',
      'rec-init-1.mp4',
      'rec-init-2.mp4',
      'recording.m3u8',
    ]);
    const playlist = await storage.get(recordingKeys.playlist('rec-1', '360p', B));
    const text = new TextDecoder().decode(playlist);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('#EXT-X-ENDLIST');
    expect(text.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
    const listed = [...text.matchAll(/#EXTINF:([\d.]+),/g)].reduce((s, m) => s + Number(m[1]), 0);
    expect(Math.abs(listed - 14)).toBeLessThan(1);

    // ffmpeg decodes the whole recording through its multivariant playlist without an error.
    const master = join(fixture.dir, recordingKeys.multivariant('rec-1', B));
    const decoded = await run('ffmpeg', ['-v', 'error', '-i', master, '-map', '0:v', '-f', 'null', '-']);
    expect(decoded.err).toBe('');
    expect(decoded.code).toBe(0);
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      master,
    ]);
    expect(Math.abs(Number(probe.out.trim()) - 14)).toBeLessThan(1);

    const id = recordingId('rec-1', B);
    expect(await redis.zrevrange(recordingIndexKeys.byStream('rec-1'), 0, -1)).toEqual([id]);
    const entry = RecordingEntry.parse(JSON.parse((await redis.get(recordingIndexKeys.entry(id)))!));
    expect(entry).toMatchObject({
      id,
      status: 'complete',
      renditions: ['360p'],
      playbackPath: `/rec-1/recording-${B}.m3u8`,
    });
    expect(Math.abs(entry.durationS - 14)).toBeLessThan(1);
    expect(entry.bytes).toBeGreaterThan(0);
    expect(await redis.pttl(recordingIndexKeys.entry(id))).toBeGreaterThan(29 * 86_400_000);
  }, 30_000);

  it('records nothing for a stream whose record flag is off in its Redis record', async () => {
    const redis = fixture.redis.client();
    await redis.set(streamKeys.record('rec-off'), JSON.stringify({ id: 'rec-off', record: false }));
    const storage = new LocalDiskStorage(fixture.dir);
    const inner = {
      open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
    };
    const sinks = new RecordingSinks(inner, {
      storage,
      redis,
      logger: quiet,
      retentionDays: 30,
      records: recordFlagFromRedis(redis),
    });
    // The flag is read asynchronously: the output written meanwhile must not be stored either.
    const off = sinks.open('rec-off', '360p', { broadcast: B });
    const on = sinks.open('rec-on', '360p', { broadcast: B });
    feed(off, fixture.source);
    feed(on, fixture.source);
    await Promise.all([off.end(), on.end()]);
    await expect(readdir(join(fixture.dir, 'rec-off'))).rejects.toThrow(/ENOENT/);
    expect(await redis.exists(recordingIndexKeys.byStream('rec-off'))).toBe(0);
    // A stream without a record (or flag) records.
    expect(await redis.zcard(recordingIndexKeys.byStream('rec-on'))).toBe(1);
  });
});
