import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capacityOf, IngestEnv, validateEnv } from '../../containers/ingest/src/config.js';
import { partKey } from '../../core/adapters/live/part-store.js';
import { readEnv } from '../../core/contracts/env.js';
import { streamKeys } from '../../core/streams/keys.js';
import { freePort } from '../support/ports.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, pushSrt, waitFor } from './media.js';

describe('ingest configuration (MIRROR_* variables)', () => {
  it('applies the documented defaults', () => {
    const env = readEnv(IngestEnv, { MIRROR_REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(env).toMatchObject({
      MIRROR_SRT_PORT: 9000,
      MIRROR_HEALTH_PORT: 8081,
      MIRROR_GPU: 'auto',
      MIRROR_LADDER: 'tile',
      MIRROR_WINDOW_SEGMENTS: 20,
      MIRROR_STORAGE: 'local',
      MIRROR_MAX_BUFFER_MB: 400,
    });
    expect(capacityOf({ ...env, MIRROR_NVENC_SESSIONS_PER_GPU: 15 })).toBe(15);
  });

  it('names the variable that is wrong', () => {
    expect(() => readEnv(IngestEnv, {})).toThrow('MIRROR_REDIS_URL');
    expect(() => readEnv(IngestEnv, { MIRROR_REDIS_URL: 'redis://x', MIRROR_GPU: 'maybe' })).toThrow(
      'MIRROR_GPU',
    );
    const s3 = readEnv(IngestEnv, { MIRROR_REDIS_URL: 'redis://x', MIRROR_STORAGE: 's3' });
    expect(() => validateEnv(s3)).toThrow('MIRROR_BUCKET');
  });
});

describe('ingest process (main.ts)', () => {
  let redis: RedisServer;
  let proc: ChildProcess;
  let stdout = '';

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await redis?.stop();
  });

  it('starts from MIRROR_* variables, publishes parts through the packager, and drains on SIGTERM', async () => {
    const client = redis.client();
    const now = new Date().toISOString();
    const rec = {
      id: 'main-cam',
      name: 'main cam',
      ladder: 'passthrough',
      latency: 'low',
      publishKey: 'main-cam-key-0123456789',
      passphrase: null,
      keyLength: 16,
      createdAt: now,
      updatedAt: now,
    };
    await client.set(streamKeys.record(rec.id), JSON.stringify(rec));
    await client.zadd(streamKeys.index, Date.now(), rec.id);
    const mediaDir = mkdtempSync(join(tmpdir(), 'mirror-main-media-'));
    const srtPort = await freeUdpPort();
    const healthPort = await freePort();
    proc = spawn(process.execPath, ['--import', 'tsx', 'containers/ingest/src/main.ts'], {
      env: {
        ...process.env,
        MIRROR_REDIS_URL: redis.url,
        MIRROR_SRT_PORT: String(srtPort),
        MIRROR_HEALTH_PORT: String(healthPort),
        MIRROR_MEDIA_DIR: mediaDir,
        MIRROR_TASK_ID: 'main-task',
        MIRROR_GPU: 'off',
        // No other task here: the drain keeps the publisher until the window's end (3 s of 4), then exits.
        MIRROR_DRAIN_S: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    await waitFor('health', () => stdout.includes('ingest service started'), 20_000);
    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    expect(await health.json()).toMatchObject({ ok: true, taskId: 'main-task', registry: 1 });

    const pusher = pushSrt({
      clip: makeClip({ codec: 'h264', width: 320, height: 180 }),
      port: srtPort,
      streamId: rec.publishKey,
    });
    // Media sits under {stream}/{rendition}/{broadcast}/: list the rendition's files across broadcasts.
    const files = () =>
      readdirSync(join(mediaDir, rec.id, 'source'), { recursive: true }).map((f) => basename(String(f)));
    // Parts live in Redis beside the live state (D33); segments and init segments on disk.
    const parts = async () => (await client.keys(partKey(`${rec.id}/source/*`))).length;
    const deadline = Date.now() + 20_000;
    while ((await parts()) < 5) {
      expect(Date.now(), 'parts in Redis').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await client.get(streamKeys.lease(rec.id))).toBe('main-task');
    // Structured JSON logs, without the publish key.
    const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.some((l) => JSON.parse(l).message === 'SRT publisher connected')).toBe(true);
    expect(stdout).not.toContain(rec.publishKey);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await client.get(streamKeys.lease(rec.id))).toBeNull();
    expect(files().some((f) => f.startsWith('seg-'))).toBe(true);
    await pusher.stop();
  });
});
