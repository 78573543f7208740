import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type NetnsLink, setupNetns, teardownNetns } from '../../containers/ingest/scripts/netns-loss.js';
import { startIngestService } from '../../containers/ingest/src/service.js';
import { createRtpStream, newSrtpParams, srtpOut } from '../rtp/media.js';
import { FFMPEG_QUIET } from '../support/media.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, makeClip, waitFor } from './media.js';
import { CollectingSinks } from './sinks.js';

// Network namespaces and nftables need root (CI runs as root); the kernel has no netem, so loss is nftables' and the
// reordering and delay are a relay's (containers/ingest/scripts/netns-loss.ts).
const isRoot = process.getuid?.() === 0;
const LOSS_PERCENT = 2;
/** Every DELAY_EVERY-th packet is held this long by the relay: later packets overtake it (reordering, jitter). */
const DELAY_MS = 50;
const DELAY_EVERY = 10;
/** Its own namespace and subnet: the SRT loss trial (netns-loss.test.ts) may run in the other worker at once. */
const LINK: NetnsLink = {
  ns: 'mirror-rtp',
  hostIf: 'mirror-rh0',
  nsIf: 'mirror-re0',
  hostIp: '10.78.0.1',
  nsIp: '10.78.0.2',
};

/**
 * What the relay injected and saw, computed here independently of core/rtp: sequence gaps (nftables' losses),
 * packets forwarded after a higher sequence number, and RFC 3550's jitter from its own forward times.
 */
class RelayBook {
  forwarded = new Set<number>();
  minExt = Number.POSITIVE_INFINITY;
  maxExt = Number.NEGATIVE_INFINITY;
  reordered = 0;
  /** Forwarded so late (a timer delayed by load) that SRTP's 64-packet replay window refuses them. */
  tooLate = 0;
  jitterTicks = 0;
  private lastExt: number | null = null;
  private lastTransit: number | null = null;

  /** Unwraps the 16-bit sequence against the last one (no run here spans 32768 packets). */
  forward(seq: number, rtpTimestamp: number, atMs: number): void {
    let ext = seq;
    if (this.lastExt !== null) {
      const delta = ((seq - (this.lastExt % 65536) + 98304) % 65536) - 32768;
      ext = this.lastExt + delta;
    }
    this.lastExt = ext;
    if (ext <= this.maxExt - 64) {
      this.tooLate += 1;
      return;
    }
    if (ext < this.maxExt) this.reordered += 1;
    this.minExt = Math.min(this.minExt, ext);
    this.maxExt = Math.max(this.maxExt, ext);
    this.forwarded.add(ext);
    const transit = atMs * 90 - rtpTimestamp;
    if (this.lastTransit !== null)
      this.jitterTicks += (Math.abs(transit - this.lastTransit) - this.jitterTicks) / 16;
    this.lastTransit = transit;
  }

  get lost(): number {
    return this.maxExt - this.minExt + 1 - this.forwarded.size;
  }
}

/**
 * Loss on the host's side of the link. The harness's own rule drops in the encoder's namespace output path, where a
 * dropped datagram fails ffmpeg's send() with EPERM and ffmpeg's RTP muxer exits (libsrt ignores it); dropping on
 * arrival is what a lossy network does to a sender.
 */
const LOSS_TABLE = 'mirror-rtp-loss';
function hostLoss(percent: number | null): void {
  spawnSync('nft', ['delete', 'table', 'inet', LOSS_TABLE]);
  if (percent === null) return;
  for (const rule of [
    `add table inet ${LOSS_TABLE}`,
    `add chain inet ${LOSS_TABLE} in { type filter hook input priority 0; }`,
    `add rule inet ${LOSS_TABLE} in iifname ${LINK.hostIf} meta l4proto udp numgen random mod 100 < ${percent} counter drop`,
  ]) {
    const r = spawnSync('nft', rule.split(' '), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft ${rule}: ${r.stderr}`);
  }
}

let redisServer: RedisServer | undefined;
afterAll(async () => {
  hostLoss(null);
  teardownNetns(LINK);
  await redisServer?.stop();
});

describe('RTP over a lossy, reordering link (network namespace, nftables loss, reordering relay)', () => {
  it.runIf(isRoot)(
    `reports RFC 3550 loss, reordering and jitter that match what was injected (${LOSS_PERCENT}% loss, every ${DELAY_EVERY}th packet +${DELAY_MS} ms)`,
    async () => {
      redisServer = await startRedis();
      const redis: Redis = redisServer.client();
      const key = newSrtpParams();
      await createRtpStream(redis, 'lossy-rtp', { srtpKey: key });
      const rtpPort = await freeUdpPort();
      const service = await startIngestService({
        redis,
        taskId: 'netns-rtp',
        sinks: new CollectingSinks(),
        srtPort: await freeUdpPort(),
        srtHost: '127.0.0.1',
        rtpPort,
        healthPort: null,
        gpu: { available: false, detail: 'netns trial' },
        statusIntervalMs: 300,
      });
      setupNetns(0, LINK);
      hostLoss(LOSS_PERCENT);
      const book = new RelayBook();
      let delaying = false;
      let count = 0;
      const relay = createSocket('udp4');
      const out = createSocket('udp4');
      relay.on('message', (msg) => {
        const send = () => {
          book.forward(msg.readUInt16BE(2), msg.readUInt32BE(4), Date.now());
          out.send(msg, rtpPort, '127.0.0.1');
        };
        count += 1;
        if (delaying && count % DELAY_EVERY === 0) setTimeout(send, DELAY_MS);
        else send();
      });
      await new Promise<void>((resolve) => relay.bind(0, LINK.hostIp, resolve));
      // A 640x360 clip: about 100 packets a second, so a packet held 50 ms is overtaken by several.
      const clip = makeClip({ codec: 'h264', width: 640, height: 360, seconds: 2 });
      const url = `srtp://${LINK.hostIp}:${relay.address().port}`;
      const sender = spawn(
        'ip',
        [
          'netns',
          'exec',
          LINK.ns,
          'ffmpeg',
          ...FFMPEG_QUIET,
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          clip,
          '-c',
          'copy',
        ].concat(['-f', 'rtp_mpegts', ...srtpOut(key), url]),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let senderErr = '';
      sender.stderr?.on('data', (d: Buffer) => {
        senderErr += d.toString();
      });
      try {
        await waitFor('live', () => service.status('lossy-rtp')?.state === 'live', 15_000);
        await new Promise((r) => setTimeout(r, 3000));
        const baselineMs = service.status('lossy-rtp')?.rtp?.jitterMs ?? Number.NaN;
        delaying = true;
        await new Promise((r) => setTimeout(r, 7000));
        // SIGKILL: the sender's last packets are what the relay saw either way (SIGINT is not always honoured
        // by ffmpeg under `ip netns exec` while it loops).
        const exited = new Promise((r) => (sender.exitCode === null ? sender.once('exit', r) : r(null)));
        expect(senderErr).toBe('');
        sender.kill('SIGKILL');
        await exited;
        // Past the reorder buffer's wait, before the silence timeout.
        await new Promise((r) => setTimeout(r, 800));
        const status = service.status('lossy-rtp');
        const rtp = status?.rtp;
        const relayJitterMs = book.jitterTicks / 90;
        expect(status?.state).toBe('live');
        expect(status?.transcode).toMatchObject({ restarts: 0 });
        // nftables' own count: the same losses, plus at most a dropped RTCP sender report or two.
        const dropped = Number(
          /counter packets (\d+)/.exec(
            spawnSync('nft', ['list', 'table', 'inet', LOSS_TABLE], { encoding: 'utf8' }).stdout,
          )?.[1],
        );
        expect(dropped - (book.lost - book.tooLate)).toBeGreaterThanOrEqual(0);
        expect(dropped - (book.lost - book.tooLate)).toBeLessThanOrEqual(2);
        // Loss: exactly the sequence numbers that never reached the ingest, about 2% of them.
        expect(rtp?.lost).toBe(book.lost);
        expect(rtp?.replays).toBe(book.tooLate);
        expect(book.lost / (book.maxExt - book.minExt + 1)).toBeGreaterThan(0.005);
        expect(book.lost / (book.maxExt - book.minExt + 1)).toBeLessThan(0.05);
        // Reordering: every packet forwarded after a higher one, none so late that the buffer had given it up.
        expect(rtp?.reordered).toBe(book.reordered);
        expect(book.reordered).toBeGreaterThan(10);
        expect(rtp?.late).toBe(0);
        // Jitter: what the relay's forward times give, and well above the undisturbed link's.
        expect(rtp?.jitterMs).toBeGreaterThan(baselineMs + 2);
        expect(Math.abs((rtp?.jitterMs ?? 0) - relayJitterMs)).toBeLessThan(Math.max(1, relayJitterMs * 0.2));
        expect(rtp?.authFailures).toBe(0);
      } finally {
        sender.kill('SIGKILL');
        relay.close();
        out.close();
        await service.stop();
      }
    },
    60_000,
  );
});
