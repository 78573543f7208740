import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestService, startIngestService } from '../../containers/ingest/src/service.js';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { sequenceEnd } from '../../core/live/state.js';
import { Packager } from '../../core/packager/index.js';
import { streamKeys } from '../../core/streams/keys.js';
import { encoderArgs } from '../../core/streams/rtp-sdp.js';
import { createRtpStream, newSrtpParams, pushRtp } from '../rtp/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, type Pusher, spawnPusher, waitFor } from './media.js';

const NO_GPU = { available: false, detail: 'test machine' };
const SILENCE_MS = 1000;

let redisServer: RedisServer;
let redis: Redis;
let clip: string;
let mediaDir: string;
let live: LiveState;
let service: IngestService;
let rtpPort: number;
const pushers: Pusher[] = [];

const push = (o: Omit<Parameters<typeof pushRtp>[0], 'clip' | 'port'>) => {
  const p = pushRtp({ clip, port: rtpPort, ...o });
  pushers.push(p);
  return p;
};

function parts(streamId: string, rendition: string): number {
  try {
    return readdirSync(join(mediaDir, streamId, rendition), { recursive: true })
      .map(String)
      .filter((f) => basename(f).startsWith('part-')).length;
  } catch {
    return 0;
  }
}

async function edge(streamId: string, rendition: string) {
  const state = (await live.read(streamId))?.renditions.get(rendition);
  return state ? sequenceEnd(state.timeline) : undefined;
}

beforeAll(async () => {
  redisServer = await startRedis();
  redis = redisServer.client();
  clip = makeClip({ codec: 'h264', width: 320, height: 180, seconds: 2 });
  mediaDir = mkdtempSync(join(tmpdir(), 'mirror-rtp-media-'));
  live = new LiveState(redis);
  rtpPort = await freeUdpPort();
  service = await startIngestService({
    redis,
    taskId: 'task-rtp',
    sinks: new Packager({
      storage: new LocalDiskStorage(mediaDir),
      live,
      partTargetMs: 200,
      segmentTargetMs: 1000,
    }),
    srtPort: await freeUdpPort(),
    srtHost: '127.0.0.1',
    rtpPort,
    rtp: { silenceMs: SILENCE_MS },
    healthPort: null,
    gpu: NO_GPU,
    statusIntervalMs: 300,
  });
});
afterAll(async () => {
  await Promise.all(pushers.map((p) => p.stop()));
  await service?.stop();
  await redisServer?.stop();
});

describe('RTP ingest: MPEG-TS over SRTP (RFC 2250, RFC 3711) through the SRT pipeline', () => {
  const key = newSrtpParams();
  const id = 'rtp-cam';

  it('goes live with SRTP from ffmpeg: transcoded parts, an advancing playlist, protocol rtp in the status', async () => {
    await createRtpStream(redis, id, { srtpKey: key, ladder: 'tile' });
    push({ srtp: key });
    await waitFor('parts', () => parts(id, '360p') >= 4, 30_000);
    const first = await edge(id, '360p');
    await waitFor('status', () => service.status(id)?.rtp?.packetsReceived);
    const status = service.status(id);
    expect(status).toMatchObject({
      state: 'live',
      protocol: 'rtp',
      input: { codec: 'h264', width: 320, height: 180 },
      renditions: ['360p'],
      rtp: { srtp: true, lost: 0, authFailures: 0 },
    });
    expect(await redis.get(streamKeys.lease(id))).toBe('task-rtp');
    const stored = JSON.parse((await redis.get(streamKeys.status(id))) ?? '{}');
    expect(stored).toMatchObject({ protocol: 'rtp', rtp: { srtp: true } });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await edge(id, '360p'))!.msn).toBeGreaterThan(first!.msn);
  }, 45_000);

  it('drops and counts a wrong-key sender and refuses a second keyed source, while the publisher keeps going', async () => {
    const before = parts(id, '360p');
    const counted = service.rtp!.counters();
    const wrong = push({ srtp: newSrtpParams() });
    const second = push({ srtp: key });
    await waitFor('refused second source', () => (service.status(id)?.rtp?.refusedSources ?? 0) >= 1, 10_000);
    await waitFor(
      'wrong key counted',
      () => service.rtp!.counters().unauthenticated > counted.unauthenticated + 20,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const after = service.rtp!.counters();
    // The wrong key's packets were tried and failed, then held to the trial rate: never decoded either way.
    expect(
      after.unauthenticated + after.rateLimited - counted.unauthenticated - counted.rateLimited,
    ).toBeGreaterThan(50);
    expect(after.refused).toBeGreaterThan(counted.refused);
    expect(service.status(id)).toMatchObject({
      state: 'live',
      protocol: 'rtp',
      input: { stats: { continuityErrors: 0 } },
    });
    expect(parts(id, '360p')).toBeGreaterThan(before + 3);
    await Promise.all([wrong.stop(), second.stop()]);
  }, 30_000);

  it('silence ends the publish; a new publish continues the stream with a discontinuity', async () => {
    const before = await edge(id, '360p');
    await Promise.all(pushers.map((p) => p.stop()));
    await waitFor('idle after silence', () => service.status(id)?.state === 'idle', SILENCE_MS + 5000);
    expect(await redis.get(streamKeys.lease(id))).toBeNull();
    push({ srtp: key });
    await waitFor('live again', () => service.status(id)?.state === 'live', 10_000);
    let after = await edge(id, '360p');
    for (
      const deadline = Date.now() + 20_000;
      (after?.msn ?? 0) <= before!.msn + 1 && Date.now() < deadline;
    ) {
      await new Promise((r) => setTimeout(r, 200));
      after = await edge(id, '360p');
    }
    expect(after!.discontinuity).toBeGreaterThan(before!.discontinuity);
    expect(service.status(id)?.transcode).toMatchObject({ discontinuities: 1 });
  }, 40_000);
});

describe('RTP ingest: plain RTP only from the operator allow-list', () => {
  it('refuses a source outside the list, admits it once the list names it', async () => {
    const id = 'rtp-plain';
    await createRtpStream(redis, id, { plainSources: ['10.0.0.0/8'] });
    const counted = service.rtp!.counters().unauthenticated;
    push({});
    await waitFor('refused', () => service.rtp!.counters().unauthenticated > counted + 10);
    expect(service.status(id)).toBeUndefined();
    await createRtpStream(redis, id, { plainSources: ['10.0.0.0/8', '127.0.0.1'] });
    await waitFor('plain parts', () => parts(id, 'source') >= 2, 20_000);
    expect(service.status(id)).toMatchObject({ protocol: 'rtp', rtp: { srtp: false } });
  }, 30_000);
});

describe('RTP ingest: H.264/HEVC + AAC as two SRTP streams (RFC 6184/7798, RFC 3640), sent as the control API says', () => {
  for (const payload of ['h264', 'hevc'] as const) {
    it(`${payload}: goes live with both media through the demuxer`, async () => {
      const id = `rtp-es-${payload}`;
      const key = newSrtpParams();
      await createRtpStream(redis, id, { srtpKey: key, payload });
      // The command the control API hands out (core/streams/rtp-sdp.ts), on a small test pattern.
      const input = [
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x180:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine',
      ];
      const destination = { host: '127.0.0.1', port: rtpPort };
      const sender = spawnPusher(encoderArgs({ streamId: id, payload, destination, srtpKey: key }, input));
      pushers.push(sender);
      // Passthrough copies H.264; HEVC is transcoded to the H.264 rung browsers play.
      const rendition = payload === 'h264' ? 'source' : '360p';
      await waitFor('parts', () => parts(id, rendition) >= 3, 30_000);
      await waitFor('audio probed', () => service.status(id)?.input?.audio);
      expect(service.status(id)).toMatchObject({
        state: 'live',
        protocol: 'rtp',
        input: { codec: payload, audio: 'aac', width: 320, height: 180 },
        rtp: { srtp: true, authFailures: 0 },
      });
      await sender.stop();
    }, 40_000);
  }
});
