import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRecordingObjects } from '../../core/adapters/storage/local-recordings.js';
import { recordingId } from '../../core/contracts/names.js';
import {
  RECORDING_ALIVE_TTL_FACTOR,
  RecordingEntry,
  recordingIndexKeys,
} from '../../core/recordings/entry.js';
import { call, controlApp, request } from '../control/helpers.js';
import { encodeTestSource } from '../support/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const B = 'mh3k2x9a7q4f';
const HEARTBEAT_MS = 200;
const id = recordingId('cam-x', B);

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/**
 * A recorder killed mid-broadcast (SIGKILL: no drain, no playlists) must not leave its recording `recording` for
 * the whole retention (D40, amended): its alive key lapses, the control API reads it `failed`, and deletes every
 * object it stored although no playlist lists them.
 */
describe('a recording whose recorder crashed (real recorder process, redis-server, local storage)', () => {
  let server: RedisServer;
  let redis: Redis;
  let dir: string;
  beforeAll(async () => {
    let source: Uint8Array;
    [server, dir, source] = await Promise.all([
      startRedis(),
      mkdtemp(join(tmpdir(), 'mirror-rec-crash-')),
      encodeTestSource(7),
    ]);
    redis = server.client();
    await writeFile(join(dir, 'source.mp4'), source);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ends failed once its alive key lapses, and its delete removes every stored chunk and init', async () => {
    const media = join(dir, 'media');
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', join('test', 'support', 'recorder-child.ts')],
        ...[server.url, media, 'cam-x', B, join(dir, 'source.mp4'), String(HEARTBEAT_MS)],
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    const app = controlApp(redis, { recordings: new LocalRecordingObjects(media) });
    try {
      // Both renditions have stored their first 6 s chunk and said so in the index.
      const entry = await until(
        async () => {
          const raw = await redis.get(recordingIndexKeys.entry(id));
          const e = raw === null ? undefined : RecordingEntry.parse(JSON.parse(raw));
          return e?.objects?.['720p']?.chunks === 1 && e.objects['360p']?.chunks === 1 ? e : undefined;
        },
        20_000,
        'the first chunks',
      );
      expect(entry).toMatchObject({ status: 'recording', objects: { '720p': { chunks: 1, inits: 1 } } });
      const live = await call(app, request('GET', `/api/control/recordings/${id}`));
      expect(live.json.recording).toMatchObject({ status: 'recording', end: null });
      expect((await call(app, request('DELETE', `/api/control/recordings/${id}`))).status).toBe(409);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const killedAt = Date.now();

    // The stored entry still says `recording`; the API reads it failed within the alive key's lifetime.
    const failed = await until(
      async () => {
        const one = await call(app, request('GET', `/api/control/recordings/${id}`));
        return one.json.recording.status === 'failed' ? one.json.recording : undefined;
      },
      5000,
      'the recording to read failed',
    );
    expect(Date.now() - killedAt).toBeLessThan(HEARTBEAT_MS * RECORDING_ALIVE_TTL_FACTOR + 1000);
    expect(failed.end).not.toBeNull();
    expect(Math.abs(failed.durationS - 6)).toBeLessThan(1);
    const list = await call(app, request('GET', '/api/control/streams/cam-x/recordings'));
    expect(list.json.recordings).toMatchObject([{ id, status: 'failed', playbackUrl: null }]);

    const stored = (await files(media)).sort();
    expect(stored).toEqual([
      `cam-x/360p/${B}/rec-0.m4s`,
      `cam-x/360p/${B}/rec-init-1.mp4`,
      `cam-x/720p/${B}/rec-0.m4s`,
      `cam-x/720p/${B}/rec-init-1.mp4`,
    ]);
    const deleted = await call(app, request('DELETE', `/api/control/recordings/${id}`));
    expect(deleted.status).toBe(200);
    expect(await files(media)).toEqual([]);
    expect(await redis.exists(recordingIndexKeys.entry(id))).toBe(0);
  }, 40_000);
});
