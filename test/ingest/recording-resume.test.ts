import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RecordingSinks } from '../../containers/ingest/src/recording/recorder.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { recordingId, recordingKeys } from '../../core/contracts/names.js';
import { countedObjectNames, RecordingEntry, recordingIndexKeys } from '../../core/recordings/entry.js';
import { renderVodPlaylist } from '../../core/recordings/playlist.js';
import { parseVodPlaylist } from '../../core/recordings/resume.js';
import type { MediaStorage } from '../../core/storage/index.js';
import { usePackagerFixture } from '../core/packager-support.js';

/**
 * A broadcast's recording continued by a second recorder (another task taking the stream over under the same
 * broadcast id, D40 amended): every chunk and init name is written once, and the playlist keeps the earlier chunks.
 */
const fixture = usePackagerFixture('mirror-rec-resume-', 7);
const quiet = { warn: () => undefined, info: () => undefined };
const noSink = {
  open: () => ({ write: () => undefined, restart: () => undefined, end: async () => undefined }),
};
const MEDIA = /\/rec-(init-)?\d+\.(m4s|mp4)$/;

/** Local storage that remembers every key put through it, in order. */
function recordingStorage(dir: string): MediaStorage & { keys: string[] } {
  const disk = new LocalDiskStorage(dir);
  const keys: string[] = [];
  return {
    keys,
    put: (key, bytes, mediaClass) => {
      keys.push(key);
      return disk.put(key, bytes, mediaClass);
    },
    get: (key) => disk.get(key),
  };
}

/** One ingest task's recorder: 8 Mbit/s, so the 7 s source is a 6 s chunk and a 1 s one per run. */
async function recordRun(storage: MediaStorage, streamId: string, broadcast: string, renditions: string[]) {
  const sinks = new RecordingSinks(noSink, {
    storage,
    redis: fixture.redis.client(),
    logger: quiet,
    retentionDays: 30,
    bitrateBps: () => 8_000_000,
  });
  const opened = renditions.map((r) => sinks.open(streamId, r, { broadcast }));
  for (const sink of opened)
    for (let i = 0; i < fixture.source.byteLength; i += 7919)
      sink.write(fixture.source.subarray(i, i + 7919));
  await Promise.all(opened.map((s) => s.end()));
}

async function entryOf(id: string): Promise<RecordingEntry> {
  return RecordingEntry.parse(JSON.parse((await fixture.redis.client().get(recordingIndexKeys.entry(id)))!));
}

function listedNames(playlist: string): string[] {
  return playlist
    .split('\n')
    .filter((l) => l.startsWith('rec-') || l.startsWith('#EXT-X-MAP') || l === '#EXT-X-DISCONTINUITY');
}

function expectWrittenOnce(keys: readonly string[]): void {
  const media = keys.filter((k) => MEDIA.test(k));
  expect(media.length).toBeGreaterThan(0);
  expect(new Set(media).size).toBe(media.length);
}

describe('parseVodPlaylist', () => {
  it('reads back what renderVodPlaylist wrote, sizes aside, and refuses other text', () => {
    const chunks = [
      { index: 0, durationS: 6.006, initVersion: 1, discontinuity: false, bytes: 9 },
      { index: 1, durationS: 1, initVersion: 1, discontinuity: false, bytes: 9 },
      { index: 2, durationS: 6, initVersion: 2, discontinuity: true, bytes: 9 },
    ];
    expect(parseVodPlaylist(renderVodPlaylist(chunks))).toEqual(chunks.map((c) => ({ ...c, bytes: 0 })));
    expect(parseVodPlaylist('#EXTM3U\n#EXTINF:6,\nrec-0.m4s\n')).toBeUndefined(); // no EXT-X-MAP
    expect(parseVodPlaylist('<html>')).toBeUndefined();
  });
});

describe('a recording continued by another recorder (redis-server, local storage, ffmpeg CMAF)', () => {
  it('after a handover: numbers on past the stored playlist and lists both runs with a discontinuity', async () => {
    const storage = recordingStorage(fixture.dir);
    const B = 'mh3k2x9a7q4h';
    const id = recordingId('cam-h', B);
    await recordRun(storage, 'cam-h', B, ['360p']);
    const first = await entryOf(id);
    expect(first).toMatchObject({ status: 'complete', objects: { '360p': { chunks: 2, inits: 1 } } });

    await recordRun(storage, 'cam-h', B, ['360p']);
    expectWrittenOnce(storage.keys);
    const playlist = new TextDecoder().decode(await storage.get(recordingKeys.playlist('cam-h', '360p', B)));
    expect(listedNames(playlist)).toEqual([
      '#EXT-X-MAP:URI="rec-init-1.mp4"',
      'rec-0.m4s',
      'rec-1.m4s',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="rec-init-2.mp4"',
      'rec-2.m4s',
      'rec-3.m4s',
    ]);
    const entry = await entryOf(id);
    expect(entry).toMatchObject({
      status: 'complete',
      start: first.start,
      objects: { '360p': { chunks: 4, inits: 2 } },
    });
    expect(Math.abs(entry.durationS - 14)).toBeLessThan(1);
    expect(entry.bytes).toBeGreaterThan(first.bytes * 1.9);
    expect(await fixture.redis.client().zscore(recordingIndexKeys.byStream('cam-h'), id)).toBe(
      String(first.start),
    );

    // The joined recording decodes end to end, 14 s of it.
    const master = join(fixture.dir, recordingKeys.multivariant('cam-h', B));
    const args = ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', master];
    const probe = await promisify(execFile)('ffprobe', args);
    expect(probe.stderr).toBe('');
    expect(Math.abs(Number(probe.stdout.trim()) - 14)).toBeLessThan(1);
  }, 30_000);

  it('after a kill: leaves the unlisted chunks it stored alone and numbers on past the index counts', async () => {
    const B = 'mh3k2x9a7q4k';
    const id = recordingId('cam-k', B);
    const media = join(fixture.dir, 'killed');
    const sourceFile = join(fixture.dir, 'source-k.mp4');
    await writeFile(sourceFile, fixture.source);
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', join('test', 'support', 'recorder-child.ts')],
        ...[fixture.redis.url, media, 'cam-k', B, sourceFile, '200'],
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let killed: RecordingEntry | undefined;
    try {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const raw = await fixture.redis.client().get(recordingIndexKeys.entry(id));
        const e = raw === null ? undefined : RecordingEntry.parse(JSON.parse(raw));
        if (e?.objects?.['720p']?.chunks === 1 && e.objects['360p']?.chunks === 1) {
          killed = e;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    expect(killed).toMatchObject({ status: 'recording' });
    const before = new Map<string, Buffer>();
    for (const f of await readdir(media, { recursive: true })) {
      if (MEDIA.test(`/${f}`)) before.set(f, await readFile(join(media, f)));
    }
    expect([...before.keys()].sort()).toEqual([
      `cam-k/360p/${B}/rec-0.m4s`,
      `cam-k/360p/${B}/rec-init-1.mp4`,
      `cam-k/720p/${B}/rec-0.m4s`,
      `cam-k/720p/${B}/rec-init-1.mp4`,
    ]);

    const storage = recordingStorage(media);
    await recordRun(storage, 'cam-k', B, ['720p', '360p']);
    expectWrittenOnce(storage.keys);
    expect(storage.keys.filter((k) => before.has(k))).toEqual([]);
    for (const [f, bytes] of before) expect((await readFile(join(media, f))).equals(bytes)).toBe(true);
    // The killed run wrote no playlist: its chunk stays unlisted; the names it may have stored unindexed are skipped.
    const playlist = new TextDecoder().decode(await storage.get(recordingKeys.playlist('cam-k', '720p', B)));
    expect(listedNames(playlist)).toEqual(['#EXT-X-MAP:URI="rec-init-3.mp4"', 'rec-2.m4s', 'rec-3.m4s']);
    const entry = await entryOf(id);
    expect(entry).toMatchObject({ status: 'complete', start: killed!.start });
    // The entry counts the killed run's objects too, so deleting the recording removes them.
    const names = countedObjectNames(entry).find((r) => r.rendition === '720p')!.names;
    for (const f of ['rec-0.m4s', 'rec-init-1.mp4', 'rec-3.m4s', 'rec-init-3.mp4'])
      expect(names).toContain(f);
  }, 40_000);
});
