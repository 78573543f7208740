import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { channels, streamKeys } from '../../core/streams/keys.js';
import type { RtpPayload, StreamRecord } from '../../core/streams/schema.js';
import {
  type DataKeyProvider,
  hashPublishKey,
  processDataKeys,
  type StreamSecret,
  sealSrtpKey,
} from '../../core/streams/secrets.js';
import { clipCopyInput, type Pusher, spawnPusher } from '../ingest/media.js';

/** A fresh SRTP master key and salt as ffmpeg's -srtp_out_params takes it (base64 of 30 bytes). */
export const newSrtpParams = (): string => randomBytes(30).toString('base64');

/** SRTP options of ffmpeg's srtp:// protocol (AES_CM_128_HMAC_SHA1_80, the suite the ingest accepts). */
export const srtpOut = (params: string): string[] => [
  '-srtp_out_suite',
  'AES_CM_128_HMAC_SHA1_80',
  '-srtp_out_params',
  params,
];

/**
 * ffmpeg sending a clip as MPEG-TS over RTP (RFC 2250, `-f rtp_mpegts`), SRTP-protected when `srtp` is given, in real
 * time, looped unless `loop` is false.
 */
export function pushRtp(options: { clip: string; port: number; srtp?: string; loop?: boolean }): Pusher {
  const scheme = options.srtp ? 'srtp' : 'rtp';
  return spawnPusher([
    ...clipCopyInput(options.clip, options.loop),
    '-f',
    'rtp_mpegts',
    ...(options.srtp ? srtpOut(options.srtp) : []),
    `${scheme}://127.0.0.1:${options.port}`,
  ]);
}

/**
 * Writes an RTP stream as the control API does (decision D46): the record with `protocol: 'rtp'`, its secret with
 * the SRTP key sealed under `keys` (the ingest's provider; processDataKeys when the service is given none), or none
 * and a plain-RTP allow-list; then tells the ingest's registry follower.
 */
export async function createRtpStream(
  redis: Redis,
  id: string,
  o: {
    srtpKey?: string;
    plainSources?: string[];
    ladder?: StreamRecord['ladder'];
    keys?: DataKeyProvider;
    payload?: RtpPayload;
  },
): Promise<void> {
  const now = new Date().toISOString();
  const record: StreamRecord = {
    id,
    name: id,
    ladder: o.ladder ?? 'passthrough',
    latency: 'low',
    latencyProfile: 'low',
    keyLength: 16,
    protocol: 'rtp',
    rtp: { payload: o.payload ?? 'mp2t', ...(o.plainSources ? { plainSources: o.plainSources } : {}) },
    createdAt: now,
    updatedAt: now,
  };
  const secret: StreamSecret = {
    v: 1,
    publishKeyHash: hashPublishKey(`key-${id}-0123456789`),
    passphrase: null,
    srtp: o.srtpKey ? await sealSrtpKey(o.keys ?? processDataKeys, id, o.srtpKey) : null,
    generation: 1,
  };
  await redis
    .multi()
    .set(streamKeys.record(id), JSON.stringify(record))
    .set(streamKeys.secret(id), JSON.stringify(secret))
    .zadd(streamKeys.index, Date.now(), id)
    .exec();
  await redis.publish(channels.streamChanges, JSON.stringify({ type: 'upsert', streamId: id }));
}
