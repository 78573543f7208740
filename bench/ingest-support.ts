/** Shared set-up for the ingest benchmarks: a real redis-server, the service, streams and ffmpeg SRT callers. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { type IngestService, startIngestService } from '../containers/ingest/src/service.js';
import type { RenditionSink, RenditionSinkFactory } from '../core/media/rendition-sink.js';
import { channels, streamKeys } from '../core/streams/keys.js';
import type { LegacyStreamRecord as StreamRecord } from '../core/streams/schema.js';
import { freeUdpPort, type Pusher, pushSrt } from '../test/ingest/media.js';
import { createRtpStream, newSrtpParams, pushRtp } from '../test/rtp/media.js';
import { type RedisServer, startRedis } from '../test/support/redis.js';

/** Counts bytes per rendition instead of packaging: measures ingest and transcode alone. */
export class CountingSinks implements RenditionSinkFactory {
  readonly bytes = new Map<string, number>();
  open(streamId: string, rendition: string): RenditionSink {
    const key = `${streamId}/${rendition}`;
    this.bytes.set(key, 0);
    return {
      write: (chunk) => this.bytes.set(key, (this.bytes.get(key) ?? 0) + chunk.byteLength),
      restart: () => {},
      end: async () => {},
    };
  }
}

export interface Bench {
  redis: RedisServer;
  client: Redis;
  service: IngestService;
  sinks: CountingSinks;
  port: number;
  rtpPort: number;
  addStream(id: string, ladder: StreamRecord['ladder']): Promise<StreamRecord>;
  push(record: StreamRecord, clip: string): Pusher;
  /** An RTP stream (decision D45) and its SRTP key. */
  addRtpStream(id: string, ladder: StreamRecord['ladder']): Promise<string>;
  /** ffmpeg sending the clip as MPEG-TS over SRTP to the RTP port. */
  pushRtp(srtpKey: string, clip: string): Pusher;
  /** Stops the encoders started so far (the service keeps running). */
  stopPushers(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBench(capacity = 64): Promise<Bench> {
  const redis = await startRedis();
  const client = redis.client();
  const sinks = new CountingSinks();
  const port = await freeUdpPort();
  const rtpPort = await freeUdpPort();
  const service = await startIngestService({
    redis: client,
    taskId: 'bench',
    sinks,
    srtPort: port,
    srtHost: '127.0.0.1',
    rtpPort,
    healthPort: null,
    gpu: { available: false, detail: 'bench' },
    capacity,
  });
  const pushers: Pusher[] = [];
  return {
    redis,
    client,
    service,
    sinks,
    port,
    rtpPort,
    async addStream(id, ladder) {
      const now = new Date().toISOString();
      const rec: StreamRecord = {
        id,
        name: id,
        ladder,
        latency: 'low',
        latencyProfile: 'low',
        publishKey: `${id}-publish-key-0123`,
        passphrase: 'bench passphrase 1234',
        keyLength: 16,
        createdAt: now,
        updatedAt: now,
      };
      await client.set(streamKeys.record(id), JSON.stringify(rec));
      await client.zadd(streamKeys.index, Date.now(), id);
      await client.publish(channels.streamChanges, JSON.stringify({ type: 'upsert', streamId: id }));
      await new Promise((r) => setTimeout(r, 50));
      return rec;
    },
    push(rec, clip) {
      const p = pushSrt({
        clip,
        port,
        streamId: `#!::r=${rec.id},m=publish,s=${rec.publishKey}`,
        passphrase: rec.passphrase ?? undefined,
      });
      pushers.push(p);
      return p;
    },
    async addRtpStream(id, ladder) {
      const key = newSrtpParams();
      await createRtpStream(client, id, { srtpKey: key, ladder });
      await new Promise((r) => setTimeout(r, 50));
      return key;
    },
    pushRtp(srtpKey, clip) {
      const p = pushRtp({ clip, port: rtpPort, srtp: srtpKey });
      pushers.push(p);
      return p;
    },
    async stopPushers() {
      await Promise.all(pushers.splice(0).map((p) => p.stop()));
    },
    async stop() {
      await Promise.all(pushers.map((p) => p.stop()));
      await service.stop();
      await redis.stop();
    },
  };
}

const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are at index 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
